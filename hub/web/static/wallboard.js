// The wall display: opened with a wallboard token (…/wallboard#token=…), it never calls REST.
// Each `wallboard.snapshot` replaces the whole picture (so a display that missed something heals
// within seconds, without a reload); `call.updated` and `extension.state` move it between snapshots.
import { applyCall, callExtensions, callTimer, extensionTile, tickTimers } from "./calls.js";
import { $, h, replace } from "./dom.js";
import * as fmt from "./format.js";
import { applyI18n, langButton, onLangChange, say, t } from "./i18n.js";
import { connectLive } from "./live.js";

const TOKEN_KEY = "hub.wallboard.token";
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  localStorage.setItem(TOKEN_KEY, fromLink);
  history.replaceState(null, "", location.pathname); // the token stays off the screen and out of bookmarks
}
const token = localStorage.getItem(TOKEN_KEY);

const board = { counters: null, live: new Map(), extensions: new Map() };

function fail(message) {
  say($("#wb-error"), message);
  $("#wb-error").hidden = false;
}

function snapshot(s) {
  fmt.setTimeZone(s.timezone);
  fmt.observeHubTime(s.at);
  if (s.company_name) {
    $("#wb-company").removeAttribute("data-i18n"); // the company's name, in every language
    $("#wb-company").textContent = s.company_name;
  }
  board.counters = s.counters;
  board.live = new Map(s.live_calls.map((call) => [call.id, call]));
  board.extensions = new Map(s.extensions.map((e) => [e.extension, e.state]));
  render();
}

function callUpdated(call) {
  if (applyCall(board.live, call)) renderCalls();
}

// Waiting callers are counted on this display's clock too, so "longest wait" moves every second.
function longestWaitNow() {
  const waits = [...board.live.values()]
    .filter((c) => c.direction === "inbound" && (c.state === "queued" || c.state === "ringing"))
    .map((c) => fmt.secondsSince(c.wait_started_at || c.started_at));
  return waits.length ? Math.max(...waits) : 0;
}

function applyCounters(figures) {
  board.counters = figures.counters;
  renderCounters();
}

function renderCounters() {
  const c = board.counters;
  if (!c) return;
  const shown = {
    offered: c.offered, answered: c.answered, missed: c.missed,
    abandonment_rate: fmt.percent(c.abandonment_rate),
    longest_wait_now_s: fmt.duration(longestWaitNow()),
    service_level: fmt.percent(c.service_level),
    answer_rate: fmt.percent(c.answer_rate),
    average_wait_s: c.average_wait_s == null ? "–" : fmt.duration(c.average_wait_s),
    average_talk_s: c.average_talk_s == null ? "–" : fmt.duration(c.average_talk_s),
    short_abandoned: c.short_abandoned,
  };
  for (const [name, value] of Object.entries(shown)) {
    const el = document.querySelector(`[data-counter="${name}"] .value`);
    el.textContent = value;
  }
}

function renderCalls() {
  const calls = [...board.live.values()].sort((a, b) => (a.started_at < b.started_at ? -1 : 1));
  replace($("#wb-calls"), calls.length ? calls.map((call) => h("li", { class: `wb-call ${call.state}`, dataset: { callId: call.id, state: call.state } },
    h("span", { class: "wb-number" }, call.from_number || "–"),
    h("span", { class: "wb-hotline" }, call.hotline || call.to_number || ""),
    h("span", { class: `badge call ${call.state}` }, t(`state.${call.state}`)),
    h("span", { class: "wb-ext" }, callExtensions(call)),
    callTimer("span", call)))
    : h("li", { class: "wb-empty" }, t("wb.noCalls")));
  renderCounters();
}

function renderTiles() {
  replace($("#wb-tiles"), [...board.extensions.entries()].sort().map(([number, state]) => extensionTile(number, state)));
}

function render() {
  renderCounters();
  renderCalls();
  renderTiles();
}

applyI18n();
langButton($("#lang"));
onLangChange(render);
$("#fullscreen").addEventListener("click", () => document.documentElement.requestFullscreen?.());
document.addEventListener("fullscreenchange", () => { $("#fullscreen").hidden = Boolean(document.fullscreenElement); });
setInterval(() => {
  tickTimers();
  renderCounters();
  $("#wb-clock").textContent = fmt.clockSeconds(fmt.hubNow());
}, 1000);

if (!token) {
  fail(() => t("wb.noToken"));
} else {
  connectLive({
    token,
    banner: $("#banner"),
    onEvent: (envelope) => {
      if (envelope.type === "call.updated") callUpdated(envelope.data);
      else if (envelope.type === "extension.state") {
        board.extensions.set(envelope.data.extension, envelope.data.state);
        renderTiles();
      }
    },
    onEphemeral: (name, data) => {
      if (name === "wallboard.snapshot") snapshot(data);
      else if (name === "wallboard.counters") applyCounters(data);
    },
    onRefused: (_code, reason) => fail(() => t("wb.refused", { reason })),
  });
}
