// The host screen of a live contest (templates/live/host.html), on a projector. It speaks the /live
// Socket.IO namespace (docs/live-protocol.md): `host` on every (re)connection gives the state back,
// the buttons send the host's commands, and the server's events move the screen: the lobby with the
// PIN and the players, each question with its countdown and the number of answers, the reveal with
// the distribution, the leaderboard, the podium. Text from the server is set with textContent.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("live-data").textContent);
  var S = config.strings;
  var SHAPES = Live.SHAPES;
  var fmt = Live.fmt;
  var $ = function (id) { return document.getElementById(id); };
  if (typeof io !== "function") { problem(S.failed); return; }

  var screens = ["lobby", "question", "reveal", "board", "podium"];
  var phase = "lobby"; // lobby, question, paused, reveal, board, finished
  var index = -1;
  var total = 0;
  var players = 0;
  var locked = false;
  var clock = null; // {deadline, offset}: the server's deadline and (server clock - ours)
  var stop = null; // stops the countdown on screen
  var current = null; // the question on screen: {text, choices}

  function problem(message) {
    var element = $("problem");
    element.textContent = message || "";
    element.hidden = !message;
  }

  function show(name) {
    screens.forEach(function (screen) { $(screen + "-screen").hidden = screen !== name; });
    $("pin-small").hidden = name === "lobby" || phase === "finished";
  }

  function setPhase(name) {
    phase = name;
    Array.prototype.forEach.call(document.querySelectorAll("[data-screen-for]"), function (button) {
      button.hidden = button.dataset.screenFor.split(" ").indexOf(name) < 0;
    });
    $("btn-start").disabled = players < 1;
    $("btn-next").textContent = index + 1 >= total ? S.last : S.next;
  }

  function emit(event, data) {
    var payload = Object.assign({ contest_id: config.contest }, data || {});
    return new Promise(function (resolve) {
      socket.emit(event, payload, function (ack) {
        if (!ack || !ack.ok) problem(ack && ack.error ? ack.error : S.failed);
        else problem("");
        resolve(ack || { ok: false });
      });
    });
  }

  // --- the lobby ------------------------------------------------------------------------------------

  function setPlayers(n) {
    players = n;
    $("player-count").textContent = String(n);
    $("lobby-empty").hidden = n > 0;
    $("btn-start").disabled = n < 1 || phase !== "lobby";
  }

  function addPlayer(player) {
    if (document.querySelector('#players [data-player="' + player.id + '"]')) return;
    var li = document.createElement("li");
    li.dataset.player = player.id;
    var name = document.createElement("span");
    name.className = "live-player-name";
    name.textContent = player.nickname;
    li.appendChild(name);
    if (player.team) {
      var team = document.createElement("small");
      team.textContent = player.team;
      li.appendChild(team);
    }
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "live-remove";
    remove.textContent = "✕";
    remove.title = S.remove;
    remove.setAttribute("aria-label", fmt(S.removeLabel, { name: player.nickname }));
    remove.addEventListener("click", function () {
      if (window.confirm(fmt(S.confirmRemove, { name: player.nickname }))) emit("remove", { player_id: player.id });
    });
    li.appendChild(remove);
    $("players").appendChild(li);
  }

  function dropPlayer(playerId) {
    var li = document.querySelector('#players [data-player="' + playerId + '"]');
    if (li) li.remove();
  }

  function setLocked(value) {
    locked = !!value;
    $("btn-lock").textContent = locked ? S.unlock : S.lock;
    $("btn-lock").setAttribute("aria-pressed", locked ? "true" : "false");
    $("lock-note").hidden = !locked;
  }

  // --- a question -------------------------------------------------------------------------------------

  function choiceItems(list, choices, options) {
    var fresh = document.createDocumentFragment();
    choices.forEach(function (text, i) {
      var li = document.createElement("li");
      li.className = "live-choice shape-" + i;
      var shape = document.createElement("span");
      shape.className = "live-shape";
      shape.setAttribute("aria-label", S.shapes[i] || "");
      shape.setAttribute("role", "img");
      shape.textContent = SHAPES[i] || "";
      var label = document.createElement("span");
      label.className = "live-choice-text";
      label.textContent = text;
      li.appendChild(shape);
      li.appendChild(label);
      if (options) {
        var right = options.correct.indexOf(i) >= 0;
        li.classList.add(right ? "right" : "wrong");
        if (right) {
          var mark = document.createElement("span");
          mark.className = "live-check";
          mark.textContent = "✓";
          mark.setAttribute("aria-label", S.correct);
          label.appendChild(mark);
        }
        var count = options.distribution[i] || 0;
        var most = Math.max.apply(null, options.distribution.concat([1]));
        var bar = document.createElement("span");
        bar.className = "live-bar";
        var fill = document.createElement("span");
        fill.className = "live-bar-fill";
        fill.style.width = Math.round((count / most) * 100) + "%";
        bar.appendChild(fill);
        var number = document.createElement("span");
        number.className = "live-bar-count";
        number.textContent = String(count);
        li.appendChild(bar);
        li.appendChild(number);
      }
      fresh.appendChild(li);
    });
    list.replaceChildren(fresh);
  }

  function countdown() {
    if (stop) stop();
    stop = clock ? Live.countdown(clock, $("q-timer")) : null;
  }

  function setAnswers(count, of) {
    if (of !== undefined) players = of;
    $("q-answers").textContent = fmt(S.answers, { count: count, players: players });
  }

  function showQuestion(q, answered) {
    index = q.index;
    total = q.total || total;
    current = { text: q.text, choices: q.choices };
    $("q-number").textContent = fmt(S.questionOf, { n: index + 1, total: total });
    $("q-text").textContent = q.text;
    choiceItems($("q-choices"), q.choices);
    setAnswers(answered || 0);
    var paused = q.status === "paused";
    $("q-paused").hidden = !paused;
    if (paused) {
      clock = null;
      countdown();
      $("q-timer").textContent = String(Math.ceil((q.left_ms || 0) / 1000));
    } else {
      clock = Live.clock(q.deadline, q.server_time);
      countdown();
    }
    show("question");
    setPhase(paused ? "paused" : "question");
  }

  // --- the reveal, the boards, the podium ----------------------------------------------------------

  function moveText(move) {
    if (move > 0) return { mark: "↑" + move, label: fmt(S.up, { n: move }), cls: "up" };
    if (move < 0) return { mark: "↓" + -move, label: fmt(S.down, { n: -move }), cls: "down" };
    return { mark: "–", label: S.same, cls: "" };
  }

  function rows(body, items, withMove) {
    var fresh = document.createDocumentFragment();
    if (!items.length) {
      var empty = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = withMove ? 4 : 3;
      cell.className = "muted";
      cell.textContent = S.noPlayers;
      empty.appendChild(cell);
      fresh.appendChild(empty);
    }
    items.forEach(function (row) {
      var tr = document.createElement("tr");
      var values = [String(row.rank), row.nickname || row.name, String(row.score)];
      values.forEach(function (value, i) {
        var td = document.createElement("td");
        if (i !== 1) td.className = "num";
        td.textContent = value;
        tr.appendChild(td);
      });
      if (withMove) {
        var move = moveText(row.move || 0);
        var td = document.createElement("td");
        td.className = "live-move " + move.cls;
        td.textContent = move.mark;
        td.setAttribute("aria-label", move.label);
        tr.appendChild(td);
        if (move.cls) tr.className = move.cls;
      }
      fresh.appendChild(tr);
    });
    body.replaceChildren(fresh);
  }

  function boards(data) {
    rows($("top"), data.top || [], true);
    if ($("teams")) rows($("teams"), data.teams || [], false);
  }

  function showReveal(data) {
    index = data.index;
    clock = null;
    countdown();
    $("r-number").textContent = fmt(S.questionOf, { n: index + 1, total: total });
    $("r-text").textContent = current ? current.text : "";
    choiceItems($("r-choices"), current ? current.choices : [], data);
    $("r-answered").textContent = fmt(S.answered, { count: data.answered, players: data.players });
    $("r-explanation").hidden = !data.explanation;
    $("r-explanation").textContent = data.explanation ? fmt(S.explanation, { text: data.explanation }) : "";
    if (data.top) boards(data); // a reloaded screen's state carries them; live, the leaderboard event follows
    show("reveal");
    setPhase("reveal");
  }

  function showBoard(data) {
    if (data) boards(data);
    show("board");
    setPhase("board");
  }

  function podium(list, items, team) {
    var fresh = document.createDocumentFragment();
    items.slice(0, 3).forEach(function (row) {
      var li = document.createElement("li");
      li.className = "place-" + row.rank;
      var medal = document.createElement("span");
      medal.className = "live-medal";
      medal.textContent = String(row.rank);
      var name = document.createElement("strong");
      name.textContent = team ? row.name : row.nickname;
      var score = document.createElement("span");
      score.className = "live-podium-score";
      score.textContent = String(row.score);
      li.appendChild(medal);
      li.appendChild(name);
      li.appendChild(score);
      fresh.appendChild(li);
    });
    list.replaceChildren(fresh);
  }

  function showPodium(data) {
    clock = null;
    countdown();
    phase = "finished";
    podium($("podium"), data.players || data.top || [], false);
    if ($("podium-teams")) podium($("podium-teams"), data.teams || [], true);
    show("podium");
    setPhase("finished");
  }

  function showFinal(state) {
    rows($("final"), state.top || [], false);
    $("final-count").textContent = "(" + fmt(S.players, { n: state.players || 0 }) + ")";
  }

  // --- from a snapshot (connecting, reconnecting, reloading) ------------------------------------------

  function render(ack) {
    var state = ack.state;
    total = state.contest.total;
    index = state.index;
    setLocked(state.locked);
    $("players").replaceChildren();
    (ack.lobby || []).forEach(addPlayer);
    setPlayers(state.players);
    if (state.status === "lobby") {
      show("lobby");
      setPhase("lobby");
    } else if (state.status === "question" || state.status === "paused") {
      var q = Object.assign({ index: state.index, total: total, status: state.status,
                              server_time: state.server_time }, state.question);
      showQuestion(q, state.answered);
    } else if (state.status === "reveal") {
      showBoard(state); // after a reload the distribution is gone; the boards are not
    } else {
      showPodium({ players: state.top || [], teams: state.teams || [] });
      showFinal(state);
    }
  }

  var socket = io(config.namespace, { transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    $("connection").hidden = true;
    emit("host").then(function (ack) { if (ack.ok) render(ack); });
  });
  socket.on("disconnect", function () {
    $("connection").textContent = S.offline;
    $("connection").hidden = false;
  });
  socket.on("player_joined", function (data) { addPlayer(data.player); setPlayers(data.players); });
  socket.on("player_removed", function (data) { dropPlayer(data.player_id); setPlayers(Math.max(0, players - 1)); });
  socket.on("locked", function (data) { setLocked(data.locked); });
  socket.on("question", function (data) { showQuestion(data, 0); });
  socket.on("answers", function (data) { if (data.index === index) setAnswers(data.count, data.players); });
  socket.on("paused", function (data) {
    if (data.index !== index) return;
    clock = null;
    countdown();
    $("q-timer").textContent = String(Math.ceil(data.left_ms / 1000));
    $("q-paused").hidden = false;
    setPhase("paused");
  });
  socket.on("resumed", function (data) {
    if (data.index !== index) return;
    clock = Live.clock(data.deadline, data.server_time);
    countdown();
    $("q-paused").hidden = true;
    setPhase("question");
  });
  socket.on("reveal", showReveal);
  socket.on("leaderboard", boards);
  socket.on("skipped", function (data) { problem(fmt(S.skipped, { n: data.index + 1 })); });
  socket.on("finished", function (data) {
    showPodium(data);
    emit("host").then(function (ack) { if (ack.ok) showFinal(ack.state); });
  });

  $("btn-lock").addEventListener("click", function () { emit("lock", { locked: !locked }); });
  $("btn-start").addEventListener("click", function () { emit("start"); });
  $("btn-pause").addEventListener("click", function () { emit("pause"); });
  $("btn-resume").addEventListener("click", function () { emit("resume"); });
  $("btn-skip").addEventListener("click", function () { emit("skip"); });
  $("btn-board").addEventListener("click", function () { showBoard(null); });
  $("btn-next").addEventListener("click", function () { emit("next"); });
  $("btn-end").addEventListener("click", function () { if (window.confirm(S.confirmEnd)) emit("end"); });
  setPhase("lobby");
})();
