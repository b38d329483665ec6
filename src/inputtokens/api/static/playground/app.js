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
const SNAP = 6; // how far from its estimated place a block may move to reach a message's end

const $ = (id) => document.getElementById(id);
const fmt = (n) => Number(n).toLocaleString("en-US");

let timer = null; // the pending debounced count
let inFlight = null; // AbortController of the count being asked
let generation = 0; // answers to an older body than the box holds are dropped
let modelIds = new Set();

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

// Where a JSON syntax error is: V8 says "at position N" (and lately "(line L column C)").
function jsonErrorMessage(text, error) {
  let message = "The body is not valid JSON: " + error.message;
  const found = /position (\d+)/.exec(error.message);
  if (!found) return { message, context: "" };
  const position = Number(found[1]);
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  if (!/line \d+ column \d+/.test(error.message)) message += ` (line ${line} column ${column})`;
  const lineText = text.split("\n")[line - 1] || "";
  return { message, context: lineText + "\n" + " ".repeat(Math.max(column - 1, 0)) + "^" };
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
    answer = await response.json();
  } catch (error) {
    if (error.name === "AbortError" || mine !== generation) return;
    showError("No answer from the server: " + error.message);
    setState("error");
    return;
  }
  if (mine !== generation) return;
  if (!response.ok) {
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
  showError(error.message || "The server refused the body.", details);
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
  $("gauge-room").style.width = share(answer.room_for_output || 0);
  const limit = answer.max_input_tokens;
  const percent = ((100 * used) / (limit || 1)).toFixed(used < limit / 100 ? 2 : 1);
  let text = `${fmt(used)} of ${fmt(limit)} input tokens (${percent}%)`;
  if (answer.max_output_tokens) text += ` · room for output ${fmt(answer.room_for_output)}`;
  text += ` · context window ${fmt(answer.context_window)}`;
  $("gauge-text").textContent = text;
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

function renderPrompt(answer, body) {
  const ids = answer.tokens || [];
  const strings = answer.token_strings || [];
  const parts = answer.breakdown || [];
  const places = mediaPlaces(parts, strings);
  const prompt = $("prompt");
  const fragment = document.createDocumentFragment();
  let shade = 0; // alternates over text tokens only, so neighbours always differ
  for (let i = 0; i <= ids.length; i++) {
    for (const media of places.get(i) || []) fragment.append(mediaBlock(media, body));
    if (i === ids.length) break;
    const text = strings[i];
    const special = SPECIAL.test(text);
    let kind = special ? "special" : "t" + (shade++ % 2);
    if (text.includes("\n")) kind += " nl";
    if (text === "") kind += " empty";
    fragment.append(el("span", { class: "tok " + kind, title: `id ${ids[i]}`, text }));
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
