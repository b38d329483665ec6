// The playground page (GET /playground): counts the body in the text box as you type, through
// the same routes any client calls, and draws the answer. Plain script, no build step, no
// dependencies; served under a Content-Security-Policy that allows only this origin, so
// nothing here may use inline handlers, eval or inline style attributes (sizes are set
// through element.style, which the policy allows).
"use strict";

const ROUTES = {
  responses: "/v1/responses/input_tokens",
  chat: "/v1/chat/completions/input_tokens",
  embeddings: "/v1/embeddings/input_tokens",
};
const API_NAMES = { responses: "Responses", chat: "Chat Completions", embeddings: "Embeddings" };
// ?tokens=true: the verbose view plus the token ids and their strings (docs/http.md).
const QUERY = "?tokens=true";
const DEBOUNCE_MS = 300;
const KEY_STORAGE = "inputtokens-playground-key"; // sessionStorage: gone when the tab closes
// Framing tokens (<|im_start|>, <|start|>, <|message|>, ...): shown apart from the text.
const SPECIAL = /^<\|[a-z_]+\|>$/;
// Tokens that close a message: a message's images and files are drawn just before them.
const MESSAGE_END = new Set(["<|im_end|>", "<|end|>", "<|call|>", "<|return|>"]);
const MAX_SPANS = 20000; // tokens drawn before a "show all" button
const SNAP = 6; // how far from its estimated place a block may move to reach a message's end

const $ = (id) => document.getElementById(id);
const fmt = (n) => Number(n).toLocaleString("en-US");

let timer = null; // the pending debounced count
let inFlight = null; // AbortController of the count being asked
let generation = 0; // answers to an older body than the box holds are dropped
let modelIds = new Set();
let showAll = false; // the reader asked for every token of a long prompt

function setState(state) {
  // For tests and for styling: loading, pending, counting, done, error or empty.
  document.body.dataset.state = state;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// ---- the API key ----------------------------------------------------------------------------

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

function headers() {
  const out = { "Content-Type": "application/json" };
  const key = apiKey();
  if (key) out.Authorization = "Bearer " + key;
  return out;
}

function askForKey() {
  $("key-row").hidden = false;
}

// ---- the body: parsing, errors, guessing its API ----------------------------------------------

// Where a JSON syntax error is. Browsers' messages do not always say (V8 names the position
// for some errors only), so a small scanner of JSON's grammar finds the first offending
// character; JSON.parse stays the judge of what is valid, this only points at the place.
const CONTEXT_CHARS = 40; // of the offending line, either side of the place shown
const JSON_NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

function jsonErrorPlace(text) {
  let i = 0;
  const fail = (expected) => { throw { position: i, expected }; };
  const space = () => { while (i < text.length && " \t\n\r".includes(text[i])) i++; };
  const string = () => {
    i++; // the opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') { i++; return; }
      if (c < " ") fail("a string without raw control characters (a line break is written \\n)");
      i += c === "\\" ? 2 : 1;
    }
    fail("a closing '\"'");
  };
  const value = () => {
    space();
    const c = text[i];
    if (c === "{") return members("}", () => {
      space();
      if (text[i] !== '"') fail("a property name in double quotes");
      string();
      space();
      if (text[i] !== ":") fail("':' after the property name");
      i++;
      value();
    });
    if (c === "[") return members("]", value);
    if (c === '"') return string();
    JSON_NUMBER.lastIndex = i;
    const number = JSON_NUMBER.exec(text);
    if (number) { i += number[0].length; return; }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) { i += word.length; return; }
    }
    fail(i < text.length ? "a value" : "a value, not the end of the body");
  };
  const members = (close, member) => {
    i++; // the opening bracket
    space();
    if (text[i] === close) { i++; return; }
    for (;;) {
      member();
      space();
      if (text[i] === ",") { i++; continue; }
      if (text[i] === close) { i++; return; }
      fail(`',' or '${close}'`);
    }
  };
  try {
    value();
    space();
    if (i < text.length) fail("the end of the body");
  } catch (error) {
    if (error && typeof error.position === "number") return error;
  }
  return null; // no place found (or nested too deep to scan): the browser's message alone
}

function jsonErrorMessage(text, error) {
  const place = jsonErrorPlace(text);
  if (!place) return { message: "The body is not valid JSON: " + error.message, context: "" };
  const before = text.slice(0, place.position);
  const line = before.split("\n").length;
  const column = place.position - before.lastIndexOf("\n");
  const found = place.position < text.length ? ` (found ${JSON.stringify(text[place.position])})` : "";
  const message = `The body is not valid JSON at line ${line}, column ${column}: expected ` +
    `${place.expected}${found}.`;
  // The line around the place, cut to a window: a minified body is one very long line.
  const lineText = text.split("\n")[line - 1] || "";
  const from = Math.max(0, column - 1 - CONTEXT_CHARS);
  const shown = (from ? "…" : "") + lineText.slice(from, column - 1 + CONTEXT_CHARS);
  const caret = " ".repeat(column - 1 - from + (from ? 1 : 0)) + "^";
  return { message, context: shown + "\n" + caret };
}

function showError(message, details, context) {
  const box = $("error");
  box.replaceChildren(el("strong", { text: message }));
  for (const detail of details || []) box.append(el("div", { class: "detail", text: detail }));
  if (context) box.append(el("pre", { text: context }));
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").replaceChildren();
}

function guessApi(body) {
  if (Array.isArray(body.messages)) return "chat";
  const model = typeof body.model === "string" ? body.model : "";
  if (model.startsWith("text-embedding") || "dimensions" in body || "encoding_format" in body) {
    return "embeddings";
  }
  return "responses";
}

function chosenApi(body) {
  const picked = $("api").value;
  const guess = guessApi(body);
  $("api-guess").textContent = picked === "auto" ? "guessed: " + API_NAMES[guess] : "";
  return picked === "auto" ? guess : picked;
}

// ---- counting --------------------------------------------------------------------------------

function schedule() {
  setState("pending");
  clearTimeout(timer);
  timer = setTimeout(count, DEBOUNCE_MS);
}

async function count() {
  clearTimeout(timer);
  const mine = ++generation;
  if (inFlight) inFlight.abort();
  const text = $("body").value;
  if (!text.trim()) {
    clearError();
    clearResult();
    setState("empty");
    return;
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const { message, context } = jsonErrorMessage(text, error);
    showError(message, [], context);
    setState("error");
    return;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    showError("The body must be a JSON object, like {\"model\": \"gpt-4o\", \"input\": \"Hi\"}.");
    setState("error");
    return;
  }
  const api = chosenApi(body);
  followModel(body);
  setState("counting");
  inFlight = new AbortController();
  let response, answer;
  try {
    // The text as typed, not re-serialized: the route sees exactly the box's bytes.
    response = await fetch(ROUTES[api] + QUERY, {
      method: "POST",
      headers: headers(),
      body: text,
      signal: inFlight.signal,
    });
    // Not JSON (a proxy's error page, say): null, and the status tells what happened.
    answer = await response.json().catch(() => null);
  } catch (error) {
    if (error.name === "AbortError" || mine !== generation) return;
    showError("No answer from the server: " + error.message);
    setState("error");
    return;
  }
  if (mine !== generation) return;
  if (!response.ok || !answer) {
    showApiError(response.status, answer);
    setState("error");
    return;
  }
  clearError();
  render(answer, body);
  setState("done");
}

function showApiError(status, answer) {
  const error = (answer && answer.error) || {};
  const details = [];
  if (error.param) details.push("param: " + error.param);
  if (error.code) details.push("code: " + error.code);
  details.push("HTTP " + status);
  if (status === 401) askForKey();
  showError(error.message || `The server answered HTTP ${status} without an error message.`,
    details);
}

// ---- drawing the answer ----------------------------------------------------------------------

function clearResult() {
  $("input-tokens").textContent = "–";
  delete $("input-tokens").dataset.value;
  for (const id of ["verdict", "cost", "reasons", "warnings", "gauge-text", "breakdown-bar",
    "prompt", "offsets"]) {
    $(id).replaceChildren();
  }
  $("breakdown").tBodies[0].replaceChildren();
  $("offsets").hidden = true;
  $("gauge-used").style.width = "0";
  $("gauge-room").style.width = "0";
}

function render(answer, body) {
  clearResult();
  $("input-tokens").textContent = fmt(answer.input_tokens);
  $("input-tokens").dataset.value = String(answer.input_tokens);
  $("verdict").append(
    answer.exact
      ? el("span", { class: "badge exact", text: "exact" })
      : el("span", { class: "badge estimate", text: "estimate" }),
    el("span", { class: "muted", text: ` ${answer.model} · ${answer.encoding}` }),
  );
  for (const reason of answer.estimate_reasons || []) $("reasons").append(el("li", { text: reason }));
  for (const warning of answer.warnings || []) $("warnings").append(el("li", { text: warning }));
  const cost = answer.cost_usd;
  $("cost").textContent = cost
    ? `cost $${cost.standard} (batch $${cost.batch})`
    : "cost: no price known for this model";
  renderGauge(answer);
  renderBreakdown(answer.breakdown || []);
  renderPrompt(answer, body);
}

function renderGauge(answer) {
  const windowSize = answer.context_window || 1;
  const used = answer.input_tokens;
  const share = (n) => Math.min(100, (100 * n) / windowSize) + "%";
  $("gauge-used").style.width = share(used);
  // Never invisible: a short prompt in a long window still shows where it ends.
  $("gauge-used").style.minWidth = used > 0 ? "3px" : "0";
  $("gauge-room").style.width = share(answer.room_for_output || 0);
  const limit = answer.max_input_tokens;
  const percent = ((100 * used) / (limit || 1)).toFixed(used < limit / 100 ? 2 : 1);
  const legend = [
    el("span", { class: "swatch used" }),
    ` ${fmt(used)} of ${fmt(limit)} input tokens (${percent}%)`,
  ];
  if (answer.max_output_tokens) {
    legend.push(" · ", el("span", { class: "swatch room" }),
      ` room for output ${fmt(answer.room_for_output)}`);
  }
  legend.push(` · context window ${fmt(answer.context_window)}`);
  $("gauge-text").replaceChildren(...legend);
}

function renderBreakdown(parts) {
  const total = parts.reduce((sum, part) => sum + part.tokens, 0) || 1;
  const bar = $("breakdown-bar");
  const rows = $("breakdown").tBodies[0];
  parts.forEach((part, i) => {
    const colour = "c" + (i % 8);
    if (part.tokens > 0) {
      const segment = el("div", {
        class: "segment " + colour,
        title: `${part.part}: ${fmt(part.tokens)} tokens`,
      }, el("span", { text: part.part }));
      segment.style.flexGrow = String(part.tokens);
      const media = part.image_tokens + part.file_tokens;
      if (media > 0) {
        // The part's images and files: the lighter end of its segment.
        const text = (100 * (part.tokens - media)) / part.tokens;
        segment.style.backgroundImage = "linear-gradient(to right, transparent " +
          `${text}%, rgba(255, 255, 255, .4) ${text}%)`;
        segment.title += ` (${fmt(media)} in images and files)`;
      }
      // Readable at a glance: a segment too thin for its label still shows its colour.
      segment.style.minWidth = (100 * part.tokens) / total < 1 ? "2px" : "";
      bar.append(segment);
    }
    rows.append(el("tr", {},
      el("td", {}, el("span", { class: "swatch " + colour }), " " + part.part),
      el("td", { class: "num", text: fmt(part.tokens) }),
      el("td", { class: "num", text: fmt(part.text_tokens) }),
      el("td", { class: "num", text: fmt(part.image_tokens) }),
      el("td", { class: "num", text: fmt(part.file_tokens) }),
      el("td", { text: part.exact ? "exact" : "estimate: " + part.estimate_reasons.join("; ") }),
    ));
  });
}

// The value at a media entry's `param` ("input[0].content[1]") in the body, if any.
function atPath(body, path) {
  let value = body;
  for (const step of (path || "").match(/[^.[\]]+/g) || []) {
    if (value === null || typeof value !== "object") return undefined;
    value = value[/^\d+$/.test(step) ? Number(step) : step];
  }
  return value;
}

function mediaBlock(media, body) {
  const block = el("span", {
    class: "media " + media.kind,
    title: `${media.param || ""}: ${fmt(media.tokens)} tokens`,
  });
  block.dataset.tokens = String(media.tokens);
  const part = atPath(body, media.param) || {};
  const url = typeof part.image_url === "string" ? part.image_url : (part.image_url || {}).url;
  // Only data: URLs are shown: anything else would be a request to another origin.
  if (typeof url === "string" && url.startsWith("data:image/")) {
    block.append(el("img", { src: url, alt: "" }));
  }
  block.append(el("span", { text: `${media.label} · ${fmt(media.tokens)} tokens` }));
  return block;
}

// Where each part's images and files go in the token stream: after the part's text tokens,
// moved onto the end of its message when one is near. The parts' text tokens include fitted
// offsets that have no ids, hence the snap rather than an exact position.
function mediaPlaces(parts, strings) {
  const places = new Map();
  let end = 0;
  for (const part of parts) {
    end += part.text_tokens;
    if (!part.media.length) continue;
    let at = Math.min(end, strings.length);
    for (let d = 0; d <= SNAP; d++) {
      if (MESSAGE_END.has(strings[end - 1 - d])) { at = end - 1 - d; break; }
      if (MESSAGE_END.has(strings[end - 1 + d])) { at = end - 1 + d; break; }
    }
    places.set(at, (places.get(at) || []).concat(part.media));
  }
  return places;
}

// A token as a span whose text is exactly the token's; line breaks get a mark before them,
// drawn by CSS (generated content is no part of the text, so a copy stays the prompt).
function tokenSpan(text, kind, id) {
  const span = el("span", { class: "tok " + kind, title: `id ${id}` });
  text.split("\n").forEach((piece, n) => {
    if (n > 0) span.append(el("span", { class: "nl" }), "\n");
    if (piece) span.append(piece);
  });
  return span;
}

function renderPrompt(answer, body) {
  const ids = answer.tokens || [];
  const strings = answer.token_strings || [];
  const parts = answer.breakdown || [];
  const places = mediaPlaces(parts, strings);
  const prompt = $("prompt");
  const fragment = document.createDocumentFragment();
  // A very long prompt is drawn in part until asked: a span per token costs the browser
  // time on every keystroke's answer.
  const drawn = showAll ? ids.length : Math.min(ids.length, MAX_SPANS);
  let shade = 0; // alternates over text tokens only, so neighbours always differ
  for (let i = 0; i <= drawn; i++) {
    for (const media of places.get(i) || []) fragment.append(mediaBlock(media, body));
    if (i === drawn) break;
    const text = strings[i];
    const special = SPECIAL.test(text);
    const kind = special ? "special" : "t" + (shade++ % 2);
    fragment.append(tokenSpan(text, kind + (text === "" ? " empty" : ""), ids[i]));
  }
  if (drawn < ids.length) {
    const more = el("button", {
      type: "button",
      class: "more",
      text: `${fmt(ids.length - drawn)} more tokens: show all`,
    });
    more.addEventListener("click", () => { showAll = true; renderPrompt(answer, body); });
    fragment.append(more);
  }
  prompt.replaceChildren(fragment);
  const mediaTokens = parts.reduce(
    (sum, part) => sum + part.media.reduce((s, m) => s + m.tokens, 0), 0);
  // Counted tokens that no id stands for: the fitted offsets (docs/counting-rules.md).
  const offsets = answer.input_tokens - ids.length - mediaTokens;
  if (offsets !== 0) {
    const sign = offsets > 0 ? "+" : "−";
    $("offsets").textContent = `${ids.length} tokens shown, ${fmt(mediaTokens)} in images and ` +
      `files; the count includes fitted offsets of ${sign}${Math.abs(offsets)} tokens that ` +
      "have no ids (see the counting rules).";
    $("offsets").dataset.tokens = String(offsets);
    $("offsets").hidden = false;
  }
}

// ---- models, examples, start-up --------------------------------------------------------------

async function loadModels() {
  let response;
  try {
    response = await fetch("/v1/models", { headers: headers() });
  } catch (error) {
    showError("No answer from the server: " + error.message);
    return;
  }
  if (response.status === 401) {
    askForKey();
    return;
  }
  if (!response.ok) return;
  const list = (await response.json()).data || [];
  const select = $("model");
  select.replaceChildren(el("option", { value: "", text: "(as in the body)" }));
  modelIds = new Set(list.map((card) => card.id));
  for (const card of list) {
    select.append(el("option", {
      value: card.id,
      text: `${card.id} (${fmt(card.max_input_tokens)} in)`,
    }));
  }
  const text = $("body").value;
  try { followModel(JSON.parse(text)); } catch (error) { /* counted when typed */ }
}

// The picker shows the body's model when the list has it.
function followModel(body) {
  const model = body && typeof body.model === "string" ? body.model : "";
  $("model").value = modelIds.has(model) ? model : "";
}

// Picking a model writes it into the body, so the box always holds what is sent.
function pickModel() {
  const model = $("model").value;
  if (!model) return;
  let body;
  try { body = JSON.parse($("body").value || "{}"); } catch (error) { return; }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return;
  body.model = model;
  $("body").value = JSON.stringify(body, null, 2);
  schedule();
}

function setBody(text) {
  let shown = text;
  try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (error) { /* as given */ }
  $("body").value = shown;
}

async function loadExamples() {
  const response = await fetch("/playground/examples.json");
  const examples = await response.json();
  for (const example of examples) {
    const button = el("button", { type: "button", text: example.title });
    button.dataset.example = example.name;
    button.addEventListener("click", () => {
      $("body").value = JSON.stringify(example.body, null, 2);
      $("api").value = "auto";
      count();
    });
    $("examples").append(button);
  }
}

function readFile(file) {
  if (!file) return;
  file.text().then((text) => { setBody(text); count(); });
}

function start() {
  const box = $("body");
  box.addEventListener("input", schedule);
  box.addEventListener("dragover", (event) => event.preventDefault());
  box.addEventListener("drop", (event) => {
    event.preventDefault();
    readFile(event.dataTransfer.files[0]);
  });
  $("file").addEventListener("change", (event) => readFile(event.target.files[0]));
  $("api").addEventListener("change", count);
  $("model").addEventListener("change", pickModel);
  const keyBox = $("api-key");
  keyBox.value = apiKey();
  if (keyBox.value) askForKey();
  keyBox.addEventListener("change", () => {
    sessionStorage.setItem(KEY_STORAGE, keyBox.value.trim());
    loadModels();
    count();
  });
  const params = new URLSearchParams(location.search);
  if (params.get("api") in ROUTES) $("api").value = params.get("api");
  const given = params.get("body");
  if (given) setBody(given);
  setState("empty");
  // The examples and models arrive in the background; a ?body= is counted straight away.
  loadExamples().catch((error) => showError("Examples not loaded: " + error.message));
  loadModels();
  if (given) count();
}

start();
