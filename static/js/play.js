// Taking a quiz (templates/competitions/play.html) and the round page's start button.
// The server keeps the truth: the questions, the picks, the deadline. This page shows one question
// at a time, saves each pick as it is made (numbered with an increasing `seq`, retried until the
// server has it) and counts down from the server's own clock. Text from the server is set with
// textContent, never parsed as HTML.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  return { status: response.status, ok: response.ok, data };
}

function fmt(template, values) {
  return template.replace(/\{(\w+)\}/g, (_match, name) => String(values[name]));
}

// localStorage may be full or refused (private browsing): the page still works without it.
const store = {
  get(key, fallback) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch {
      /* not kept across a reload; the server still has every delivered pick */
    }
  },
  remove(key) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* nothing to clean */
    }
  },
};

// --- the round page -----------------------------------------------------------------------------

function startForm(form) {
  const input = form.querySelector("#prediction");
  const fieldError = form.querySelector("#prediction-error");
  const general = form.querySelector("#start-error");
  const button = form.querySelector('button[type="submit"]');
  const show = (element, message) => {
    element.textContent = message;
    element.hidden = false;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    general.hidden = true;
    if (fieldError) fieldError.hidden = true;
    input?.removeAttribute("aria-invalid");
    button.disabled = true;
    try {
      const result = await call("POST", form.dataset.url, input ? { prediction: input.value } : {});
      if (result.ok) {
        window.location.assign(form.dataset.next);
        return;
      }
      const message = result.data?.error ?? form.dataset.networkError;
      if (result.data?.field === "prediction" && input) {
        show(fieldError, message);
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", "prediction-hint prediction-error");
        input.focus();
      } else {
        show(general, message);
      }
    } catch {
      show(general, form.dataset.networkError);
    }
    button.disabled = false;
  });
}

// --- the quiz page ------------------------------------------------------------------------------

function quiz(config) {
  const S = config.strings;
  const $ = (id) => document.getElementById(id);
  const key = (name) => `play:${config.attempt}:${name}`;
  const WARNINGS = [300, 60, 10]; // seconds left at which the timer is announced

  let state = null; // the attempt as the server last described it
  let clock = null; // { remaining: ms left by the server's clock, at: performance.now() of that reading }
  let index = store.get(key("at"), 0);
  let seq = store.get(key("seq"), 0);
  // Picks not yet acknowledged by the server, by item id: kept across reloads and network loss.
  const pending = new Map(Object.entries(store.get(key("pending"), {})).map(([id, save]) => [Number(id), save]));
  let warned = new Set();
  let timer = null;
  let flushing = null;
  let wake = null;
  let submitting = false;
  let screen = "question"; // or "review": kept when the state is fetched again

  const persist = () => {
    store.set(key("pending"), Object.fromEntries(pending));
    store.set(key("seq"), seq);
  };
  const remainingMs = () => clock.remaining - (performance.now() - clock.at);
  const over = () => state.status !== "in_progress" || submitting || remainingMs() <= 0;

  function setClock(deadline, serverTime, askedAt) {
    // Counted from when the request left: the page may end a little early, never late.
    clock = { remaining: Date.parse(deadline) - Date.parse(serverTime), at: askedAt };
  }

  function problem(message) {
    const element = $("problem");
    element.textContent = message ?? "";
    element.hidden = !message;
  }

  function saveStatus(kind) {
    const element = $("save-status");
    element.textContent = kind ? S[kind] : "";
    element.dataset.kind = kind ?? "";
  }

  function announce(message) {
    $("announce").textContent = message;
  }

  function showScreen(id) {
    for (const screen of ["question-screen", "review-screen", "result-screen"]) $(screen).hidden = screen !== id;
    $("loading").hidden = true;
  }

  function updateProgress() {
    const answered = state.items.filter((item) => item.selected.length > 0).length;
    $("progress").max = state.items.length;
    $("progress").value = answered;
    $("progress-label").textContent = fmt(S.answeredOf, { n: answered, total: state.items.length });
  }

  function markChoices(item) {
    $("choices").querySelectorAll("button").forEach((button, position) => {
      button.setAttribute("aria-pressed", String(item.selected.includes(position)));
      button.disabled = over();
    });
  }

  function showQuestion(focus = true) {
    index = Math.min(Math.max(index, 0), state.items.length - 1);
    store.set(key("at"), index);
    screen = "question";
    const item = state.items[index];
    showScreen("question-screen");
    $("question-heading").textContent = fmt(S.questionOf, { n: index + 1, total: state.items.length });
    $("question-text").textContent = item.text;
    $("question-hint").textContent = S[item.kind] ?? "";
    const buttons = item.choices.map((text, position) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      const letter = document.createElement("span");
      letter.className = "letter";
      letter.textContent = String.fromCharCode(65 + position);
      const label = document.createElement("span");
      label.textContent = text;
      button.append(letter, label);
      button.addEventListener("click", () => choose(item, position));
      return button;
    });
    $("choices").replaceChildren(...buttons);
    markChoices(item);
    $("prev").disabled = index === 0;
    $("next").hidden = index === state.items.length - 1;
    updateProgress();
    if (focus) $("question-heading").focus();
  }

  function showReview(focus = true) {
    screen = "review";
    showScreen("review-screen");
    const answered = state.items.filter((item) => item.selected.length > 0).length;
    $("review-summary").textContent = fmt(S.reviewSummary, { n: answered, total: state.items.length });
    const rows = state.items.map((item, position) => {
      const row = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      const done = item.selected.length > 0;
      button.className = `button review-item${done ? " answered" : ""}`;
      const number = document.createElement("span");
      number.textContent = fmt(S.questionN, { n: position + 1 });
      const status = document.createElement("span");
      status.className = "state";
      status.textContent = done ? S.answered : S.unanswered;
      button.append(number, " ", status);
      button.addEventListener("click", () => {
        index = position;
        showQuestion();
      });
      row.append(button);
      return row;
    });
    $("review-list").replaceChildren(...rows);
    $("submit-step").hidden = false;
    $("confirm-step").hidden = true;
    if (focus) $("review-heading").focus();
  }

  function askToSubmit() {
    const missing = state.items.filter((item) => item.selected.length === 0).length;
    $("confirm-text").textContent = missing ? fmt(S.confirmUnanswered, { n: missing }) : S.confirm;
    $("submit-step").hidden = true;
    $("confirm-step").hidden = false;
    $("confirm-text").focus();
  }

  function duration(ms) {
    // minutes:seconds,milliseconds, as the results pages write it (ties are broken to the millisecond)
    const minutes = Math.floor(ms / 60000);
    const seconds = String(Math.floor((ms % 60000) / 1000)).padStart(2, "0");
    return `${minutes}:${seconds},${String(ms % 1000).padStart(3, "0")}`;
  }

  function resultItem(item, position) {
    const row = document.createElement("li");
    row.className = item.is_correct ? "right" : "wrong";
    const heading = document.createElement("h3");
    heading.textContent = `${fmt(S.questionOf, { n: position + 1, total: state.items.length })} · ${
      item.is_correct ? S.right : S.wrong
    }`;
    const text = document.createElement("p");
    text.className = "question-text";
    text.textContent = item.text;
    const choices = document.createElement("ul");
    choices.className = "result-choices";
    item.choices.forEach((choice, index_) => {
      const line = document.createElement("li");
      const notes = [];
      if (item.selected.includes(index_)) notes.push(S.chosen);
      if (item.correct.includes(index_)) {
        notes.push(S.correct);
        line.className = "correct";
      }
      line.textContent = `${String.fromCharCode(65 + index_)}. ${choice}${notes.length ? ` (${notes.join(", ")})` : ""}`;
      choices.append(line);
    });
    row.append(heading, text, choices);
    if (item.explanation) {
      const explanation = document.createElement("p");
      explanation.className = "explanation";
      explanation.textContent = S.explanation + item.explanation;
      row.append(explanation);
    }
    return row;
  }

  function showResult() {
    clearInterval(timer);
    for (const name of ["pending", "seq", "at"]) store.remove(key(name));
    pending.clear();
    showScreen("result-screen");
    $("timer-text").parentElement.hidden = true; // nothing left to count
    saveStatus(null);
    $("progress").value = $("progress").max;
    $("result-score").textContent = fmt(S.score, { score: state.score, max: state.max_score });
    $("result-time").textContent = fmt(S.duration, { time: duration(state.duration_ms) });
    $("result-note").textContent = state.revealed ? "" : S.revealLater;
    $("result-items").replaceChildren(...(state.revealed ? state.items.map(resultItem) : []));
    $("result-heading").focus();
  }

  function tick() {
    const left = Math.max(0, Math.ceil(remainingMs() / 1000));
    const minutes = String(Math.floor(left / 60)).padStart(2, "0");
    $("timer-text").textContent = `${minutes}:${String(left % 60).padStart(2, "0")}`;
    $("timer-text").parentElement.classList.toggle("low", left <= 60);
    for (const mark of WARNINGS) {
      if (left <= mark && !warned.has(mark)) {
        warned.add(mark);
        announce(mark >= 60 ? fmt(S.minutesLeft, { n: mark / 60 }) : fmt(S.secondsLeft, { n: mark }));
      }
    }
    if (left === 0 && !submitting) {
      announce(S.timeUp);
      submit();
    }
  }

  function apply(data, askedAt) {
    state = data;
    setClock(data.deadline, data.server_time, askedAt);
    if (state.status !== "in_progress") {
      showResult();
      return;
    }
    // Picks the server has not acknowledged yet stay on top of what it sent; it knows the rest.
    for (const item of state.items) {
      seq = Math.max(seq, item.seq);
      const mine = pending.get(item.id);
      if (mine && mine.seq > item.seq) item.selected = mine.choices;
      else pending.delete(item.id);
    }
    persist();
    // Announce only the warnings still ahead (a reload with 50 s left says nothing of "5 minutes").
    warned = new Set(WARNINGS.filter((mark) => remainingMs() / 1000 <= mark));
    clearInterval(timer);
    timer = setInterval(tick, 250);
    tick();
    if (!submitting) (screen === "review" ? showReview : showQuestion)(false);
    flush();
  }

  async function load() {
    const askedAt = performance.now();
    let result;
    try {
      result = await call("GET", config.urls.state);
    } catch {
      problem(S.offlineLoad);
      await pause(3000);
      return load();
    }
    if (!result.ok) {
      problem(result.data?.error ?? S.failed);
      return;
    }
    problem(null);
    apply(result.data, askedAt);
  }

  function pause(ms) {
    // Woken early when the phone is back online.
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(id);
        wake = null;
        resolve();
      };
      const id = setTimeout(done, ms);
      wake = done;
    });
  }

  async function drain() {
    let backoff = 1000;
    let sent = false;
    while (pending.size && state.status === "in_progress") {
      const [itemId, save] = pending.entries().next().value;
      saveStatus("saving");
      const askedAt = performance.now();
      let result = null;
      try {
        result = await call("POST", config.urls.answer, { item_id: itemId, choices: save.choices, seq: save.seq });
      } catch {
        /* no network: retried below */
      }
      if (result?.ok) {
        if (pending.get(itemId) === save) pending.delete(itemId);
        seq = Math.max(seq, result.data.seq);
        setClock(state.deadline, result.data.server_time, askedAt);
        persist();
        sent = true;
        backoff = 1000;
        continue;
      }
      if (result?.status === 409) {
        // The attempt is over (time, or submitted from another phone): the server has the result.
        pending.clear();
        persist();
        await load();
        return;
      }
      if (result?.status === 401) {
        problem(result.data?.error ?? S.failed); // kept for after signing in again
        saveStatus("offline");
        return;
      }
      if (result && result.status >= 400 && result.status < 500 && result.status !== 429) {
        pending.delete(itemId); // refused for good: retrying cannot help
        persist();
        problem(result.data?.error ?? S.failed);
        continue;
      }
      saveStatus("offline");
      await pause(backoff);
      backoff = Math.min(backoff * 2, 30000);
    }
    if (sent && !pending.size) saveStatus("saved");
  }

  function flush() {
    flushing ??= drain().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  function choose(item, position) {
    if (over()) return;
    if (item.kind === "multiple") {
      const picked = item.selected.includes(position);
      item.selected = picked ? item.selected.filter((p) => p !== position) : [...item.selected, position].sort();
    } else {
      item.selected = [position];
    }
    seq += 1;
    pending.set(item.id, { choices: item.selected, seq });
    persist();
    markChoices(item);
    updateProgress();
    flush();
  }

  async function submit() {
    if (submitting) return;
    submitting = true;
    saveStatus("submitting");
    document.querySelectorAll("#quiz .screen button").forEach((button) => {
      button.disabled = true;
    });
    await flush(); // every pick first; past the deadline the server refuses them and closes anyway
    let backoff = 1000;
    while (state.status === "in_progress") {
      const askedAt = performance.now();
      try {
        const result = await call("POST", config.urls.submit);
        if (result.ok) {
          apply(result.data, askedAt);
          return;
        }
        if (result.status !== 429 && result.status < 500) {
          problem(result.data?.error ?? S.failed);
          return;
        }
      } catch {
        /* no network: retried below */
      }
      saveStatus("offline");
      await pause(backoff);
      backoff = Math.min(backoff * 2, 30000);
    }
  }

  $("prev").addEventListener("click", () => {
    index -= 1;
    showQuestion();
  });
  $("next").addEventListener("click", () => {
    index += 1;
    showQuestion();
  });
  $("to-review").addEventListener("click", () => showReview());
  $("back-to-quiz").addEventListener("click", () => showQuestion());
  $("submit").addEventListener("click", askToSubmit);
  $("cancel-submit").addEventListener("click", () => showReview());
  $("confirm-submit").addEventListener("click", submit);
  window.addEventListener("online", () => wake?.());
  // A phone that slept may have stopped the page's clock: ask the server again.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state?.status === "in_progress" && !submitting) load();
  });
  load();
}

const startElement = document.getElementById("start-form");
if (startElement) startForm(startElement);
const dataElement = document.getElementById("play-data");
if (dataElement) quiz(JSON.parse(dataElement.textContent));
