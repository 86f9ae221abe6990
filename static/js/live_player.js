// A player's phone in a live contest (templates/live/join.html): the join form, then the play screen
// on the same page. It speaks the /live Socket.IO namespace (docs/live-protocol.md). The token from
// the `join` acknowledgement is kept in localStorage (one key per contest) and sent with `rejoin` on
// every (re)connection, so a reload, a lost network or a locked phone brings the same player back
// with their score. The server judges every answer; this page only shows what it says.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("live-data").textContent);
  var S = config.strings;
  var SHAPES = Live.SHAPES;
  var fmt = Live.fmt;
  var KEY = "live:" + config.contest + ":token";
  var $ = function (id) { return document.getElementById(id); };
  var screens = ["join", "wait", "question", "result", "podium", "removed"];

  var me = null; // {id, nickname}
  var index = -1;
  var total = 0;
  var answered = false;
  var open = false; // the current question takes answers
  var clock = null;
  var stop = null; // stops the countdown on screen
  var lastResult = null; // the result of the question last revealed

  var store = {
    get: function () { try { return localStorage.getItem(KEY); } catch (e) { return null; } },
    set: function (value) { try { localStorage.setItem(KEY, value); } catch (e) { /* kept for this page only */ } },
    drop: function () { try { localStorage.removeItem(KEY); } catch (e) { /* nothing kept */ } },
  };

  function problem(message) {
    $("problem").textContent = message || "";
    $("problem").hidden = !message;
  }

  function show(name, focus) {
    screens.forEach(function (screen) { $(screen + "-screen").hidden = screen !== name; });
    var heading = $(name + "-screen").querySelector("h2[tabindex]");
    if (focus && heading) heading.focus();
  }

  function setScore(score) {
    $("me-score").textContent = String(score);
  }

  if (typeof io !== "function") { problem(S.failed); return; }

  // --- joining --------------------------------------------------------------------------------------

  var form = $("join-form");
  var fields = ["nickname", "team_id"];

  function clearErrors() {
    fields.concat(["join"]).forEach(function (name) {
      var error = $(name + "-error");
      if (error) { error.hidden = true; error.textContent = ""; }
      var input = $(name);
      if (input) input.removeAttribute("aria-invalid");
    });
  }

  function fieldError(ack) {
    var name = ack.field && $(ack.field + "-error") ? ack.field : "join";
    var error = $(name + "-error");
    error.textContent = ack.error || S.failed;
    error.hidden = false;
    var input = $(name);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", (name === "nickname" ? "nickname-hint " : "") + name + "-error");
      input.focus();
    }
  }

  function entered(ack) {
    store.set(ack.token);
    me = ack.player;
    $("me-name").textContent = me.nickname;
    $("me-line").hidden = false;
    render(ack.state);
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      var nickname = $("nickname");
      var team = $("team_id");
      var payload = { pin: config.pin };
      if (nickname) payload.nickname = nickname.value;
      if (team && team.value) payload.team_id = parseInt(team.value, 10);
      var button = $("join-button");
      if (button) button.disabled = true;
      socket.emit("join", payload, function (ack) {
        if (button) button.disabled = false;
        if (ack && ack.ok) entered(ack);
        else fieldError(ack || {});
      });
    });
  }

  // --- playing --------------------------------------------------------------------------------------

  function countdown() {
    if (stop) stop();
    stop = clock ? Live.countdown(clock, $("timer"), function () {
      if (open && !answered) { open = false; lock(S.timeUp); }
    }) : null;
  }

  function lock(note, chosen) {
    Array.prototype.forEach.call($("choices").children, function (button, i) {
      button.disabled = true;
      if (chosen !== undefined) button.setAttribute("aria-pressed", i === chosen ? "true" : "false");
    });
    $("question-note").textContent = note || "";
  }

  function choose(choice) {
    if (!open || answered) return;
    answered = true;
    lock("", choice);
    socket.emit("answer", { index: index, choice: choice }, function (ack) {
      if (ack && ack.ok) {
        lock(S.sentWait, choice);
        return;
      }
      if (ack && ack.reason !== "twice") answered = false;
      lock(ack && ack.error ? ack.error : S.failed);
      if (open && !answered) Array.prototype.forEach.call($("choices").children, function (b) { b.disabled = false; });
    });
  }

  function showQuestion(q, alreadyAnswered) {
    index = q.index;
    total = q.total || total;
    answered = !!alreadyAnswered;
    open = q.status !== "paused" && !answered;
    $("question-heading").textContent = fmt(S.questionOf, { n: index + 1, total: total });
    $("question-text").textContent = q.text;
    var fresh = document.createDocumentFragment();
    q.choices.forEach(function (text, i) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "live-answer shape-" + i;
      button.setAttribute("aria-pressed", "false");
      var shape = document.createElement("span");
      shape.className = "live-shape";
      shape.setAttribute("role", "img");
      shape.setAttribute("aria-label", S.shapes[i] || "");
      shape.textContent = SHAPES[i] || "";
      var label = document.createElement("span");
      label.className = "live-choice-text";
      label.textContent = text;
      button.appendChild(shape);
      button.appendChild(label);
      button.addEventListener("click", function () { choose(i); });
      fresh.appendChild(button);
    });
    $("choices").replaceChildren(fresh);
    $("question-note").textContent = "";
    if (q.status === "paused") {
      clock = null;
      countdown();
      $("timer").textContent = String(Math.ceil((q.left_ms || 0) / 1000));
      lock(S.paused);
    } else {
      clock = Live.clock(q.deadline, q.server_time);
      countdown();
      if (answered) lock(S.sentWait);
    }
    show("question", true);
  }

  function showResult(data) {
    lastResult = data;
    open = false;
    clock = null;
    countdown();
    var verdict = data.correct ? S.right : (answered ? S.wrong : S.missed);
    $("result-heading").textContent = verdict;
    $("result-screen").classList.toggle("right", !!data.correct);
    $("result-screen").classList.toggle("wrong", !data.correct);
    $("result-points").textContent = fmt(S.points, { n: data.points });
    $("result-score").textContent = String(data.score);
    $("result-rank").textContent = data.rank + "/" + data.players;
    $("result-streak").textContent = fmt(S.streak, { n: data.streak });
    setScore(data.score);
    show("result", true);
  }

  function podium(list, items, team) {
    var fresh = document.createDocumentFragment();
    items.slice(0, 3).forEach(function (row) {
      var li = document.createElement("li");
      li.className = "place-" + row.rank;
      var name = document.createElement("strong");
      name.textContent = team ? row.name : row.nickname;
      var score = document.createElement("span");
      score.textContent = " · " + fmt(team ? S.teamScore : S.score, { score: row.score });
      li.appendChild(name);
      li.appendChild(score);
      if (!team && me && row.player_id === me.id) li.classList.add("mine");
      fresh.appendChild(li);
    });
    list.replaceChildren(fresh);
    list.hidden = !items.length;
  }

  function showPodium(data) {
    open = false;
    clock = null;
    countdown();
    podium($("podium"), data.players || data.top || [], false);
    podium($("podium-teams"), data.teams || [], true);
    $("podium-teams-heading").hidden = !(data.teams && data.teams.length);
    var mine = $("me-score").textContent;
    $("podium-mine").textContent = lastResult ? fmt(S.mine, { score: lastResult.score, rank: lastResult.rank })
      : fmt(S.mineScore, { score: mine });
    show("podium", true);
  }

  function render(state) {
    total = state.contest.total;
    index = state.index;
    var mine = state.me || {};
    if (mine.score !== undefined) setScore(mine.score);
    if (state.status === "lobby") {
      show("wait", true);
    } else if (state.status === "question" || state.status === "paused") {
      var q = Object.assign({ index: state.index, total: total, status: state.status,
                              server_time: state.server_time }, state.question);
      showQuestion(q, mine.answered);
    } else if (state.status === "reveal") {
      if (lastResult && lastResult.index === state.index) showResult(lastResult);
      else {
        $("result-heading").textContent = S.waitNext;
        $("result-points").textContent = "";
        $("result-score").textContent = String(mine.score || 0);
        $("result-rank").textContent = "";
        $("result-streak").textContent = fmt(S.streak, { n: mine.streak || 0 });
        show("result", true);
      }
    } else {
      showPodium({ players: state.top || [], teams: state.teams || [] });
    }
  }

  // --- the connection ---------------------------------------------------------------------------------

  var socket = io(config.namespace, { transports: ["websocket", "polling"] });
  var wasConnected = false;
  socket.on("connect", function () {
    $("connection").hidden = !wasConnected;
    $("connection").textContent = wasConnected ? S.back : "";
    wasConnected = true;
    var token = store.get();
    if (!token) return;
    socket.emit("rejoin", { token: token }, function (ack) {
      if (ack && ack.ok) { entered(ack); return; }
      store.drop();
      me = null;
      $("me-line").hidden = true;
      show("join");
      if (ack && ack.error && ack.field !== "token") problem(ack.error);
    });
  });
  socket.on("disconnect", function () {
    $("connection").textContent = S.offline;
    $("connection").hidden = false;
  });
  socket.on("question", function (data) { if (me) { problem(""); showQuestion(data, false); } });
  socket.on("paused", function (data) {
    if (!me || data.index !== index) return;
    open = false;
    clock = null;
    countdown();
    $("timer").textContent = String(Math.ceil(data.left_ms / 1000));
    lock(S.paused);
  });
  socket.on("resumed", function (data) {
    if (!me || data.index !== index) return;
    clock = Live.clock(data.deadline, data.server_time);
    open = !answered;
    countdown();
    if (answered) lock(S.sentWait);
    else {
      Array.prototype.forEach.call($("choices").children, function (b) { b.disabled = false; });
      $("question-note").textContent = "";
    }
  });
  socket.on("reveal", function (data) {
    if (!me || data.index !== index) return;
    open = false;
    Array.prototype.forEach.call($("choices").children, function (button, i) {
      button.disabled = true;
      button.classList.add(data.correct.indexOf(i) >= 0 ? "right" : "wrong");
    });
  });
  socket.on("result", function (data) { if (me) showResult(data); });
  socket.on("skipped", function (data) { if (me && data.index === index) problem(S.skipped); });
  socket.on("finished", function (data) { if (me) showPodium(data); });
  socket.on("removed", function (data) {
    store.drop();
    me = null;
    open = false;
    clock = null;
    countdown();
    $("me-line").hidden = true;
    $("removed-text").textContent = data.message;
    show("removed", true);
  });
})();
