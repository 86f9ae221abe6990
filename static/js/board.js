// Live boards: subscribe to each table's board on the /boards Socket.IO namespace and redraw its
// rows on every snapshot and update, sliding rows to their new places (FLIP). Without JavaScript
// the server-rendered table stays as it is.
(function () {
  "use strict";
  var tables = Array.prototype.slice.call(document.querySelectorAll("table.board[data-board]"));
  if (!tables.length || typeof io !== "function") return;
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var status = document.querySelector("[data-live-status]");
  var meLine = document.querySelector("[data-me-row]");
  var sizeLine = document.querySelector("[data-size]");
  var byBoard = {};
  tables.forEach(function (t) { byBoard[t.dataset.board] = t; });
  var lastMeAsk = 0;

  function say(text, isError) {
    if (!status) return;
    status.hidden = !text;
    status.textContent = text || "";
    status.classList.toggle("error", !!isError);
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function rowFor(table, row) {
    var tr = document.createElement("tr");
    tr.dataset.member = row.member;
    if (table.dataset.me && row.member === table.dataset.me) tr.className = "mine";
    cell(tr, String(row.rank), "num");
    var who = cell(tr, row.label);
    if (row.sub) {
      who.appendChild(document.createElement("br"));
      var small = document.createElement("small");
      small.className = "muted";
      small.textContent = row.sub;
      who.appendChild(small);
    }
    cell(tr, row.value, "num");
    cell(tr, row.extra, "num");
    return tr;
  }

  function draw(table, data) {
    var body = table.tBodies[0];
    var before = {};
    var oldRank = {};
    Array.prototype.forEach.call(body.rows, function (tr) {
      if (!tr.dataset.member) return;
      before[tr.dataset.member] = tr.getBoundingClientRect().top;
      oldRank[tr.dataset.member] = parseInt(tr.cells[0].textContent, 10);
    });
    var top = data.top.slice(0, parseInt(table.dataset.top, 10) || data.top.length);
    var fresh = document.createDocumentFragment();
    if (!top.length) {
      var empty = document.createElement("tr");
      cell(empty, table.dataset.msgEmpty || "", "muted").colSpan = 4;
      fresh.appendChild(empty);
    }
    top.forEach(function (row) { fresh.appendChild(rowFor(table, row)); });
    body.replaceChildren(fresh);
    if (still) return;
    Array.prototype.forEach.call(body.rows, function (tr) {
      var member = tr.dataset.member;
      if (!member) return;
      if (!(member in before)) { tr.classList.add("arrived"); return; }
      var shift = before[member] - tr.getBoundingClientRect().top;
      var rank = parseInt(tr.cells[0].textContent, 10);
      if (rank < oldRank[member]) tr.classList.add("up");
      else if (rank > oldRank[member]) tr.classList.add("down");
      if (!shift) return;
      tr.style.transform = "translateY(" + shift + "px)";
      tr.style.transition = "none";
      requestAnimationFrame(function () {
        tr.style.transition = "transform 600ms ease";
        tr.style.transform = "";
      });
    });
  }

  function showMe(table, me) {
    if (!meLine || table !== tables[0]) return;
    meLine.hidden = !me;
    if (me) meLine.textContent = "#" + me.rank + " — " + me.label + (me.value ? ", " + me.value : "");
  }

  var socket = io(tables[0].dataset.namespace, { transports: ["websocket", "polling"] });
  socket.on("connect", function () {
    say(tables[0].dataset.msgLive || "");
    tables.forEach(function (t) { socket.emit("subscribe", { board: t.dataset.board, top: parseInt(t.dataset.top, 10) }); });
  });
  socket.on("disconnect", function () { say(tables[0].dataset.msgOffline || "", true); });
  socket.on("snapshot", function (data) {
    var table = byBoard[data.board];
    if (!table) return;
    draw(table, data);
    showMe(table, data.me);
    if (sizeLine && table === tables[0]) sizeLine.textContent = data.size;
  });
  socket.on("update", function (data) {
    var table = byBoard[data.board];
    if (!table) return;
    draw(table, data);
    if (sizeLine && table === tables[0]) sizeLine.textContent = data.size;
    if (!table.dataset.me) return;
    var mine = data.top.filter(function (r) { return r.member === table.dataset.me; })[0];
    if (mine) { showMe(table, mine); return; }
    if (Date.now() - lastMeAsk > 10000) {  // my row is below the top: ask for it, not too often
      lastMeAsk = Date.now();
      socket.emit("me", { board: data.board });
    }
  });
  socket.on("me", function (data) { var t = byBoard[data.board]; if (t) showMe(t, data.me); });
  socket.on("board_error", function (data) { say(data.error, true); });

  // Projector: one board at a time, rotating.
  var slides = Array.prototype.slice.call(document.querySelectorAll("[data-slide]"));
  var seconds = parseInt(document.body.dataset.rotate || "0", 10);
  if (slides.length > 1 && seconds > 0) {
    var current = parseInt(document.body.dataset.start || "0", 10);
    setInterval(function () {
      slides[current].hidden = true;
      current = (current + 1) % slides.length;
      slides[current].hidden = false;
    }, seconds * 1000);
  }
})();
