// Calls in the console: live calls with running timers, extension states, history with the product's
// filters, the missed-call alert that pops up whatever tab is open, and missed calls as work (assign, handle).
import { api } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, lang, t } from "./i18n.js";

addStrings({
  vi: { "calls.customerThread": "Hội thoại Zalo", "calls.customerThreadTitle": "Mở hội thoại Zalo của khách này" },
  en: { "calls.customerThread": "Zalo chat", "calls.customerThreadTitle": "Open this customer's Zalo chat" },
});

const LIVE_STATES = ["new", "ringing", "queued", "answered", "held"];
const PAGE = 100; // calls a page of history loads (the hub serves up to 500)

// When a live call's present phase began: talking since the answer, else waiting since the start.
function runningSince(call) {
  return call.answered_at || call.wait_started_at || call.started_at;
}

// Moves a map of live calls by one call.updated (an older view of a call is ignored); false if ignored.
export function applyCall(live, call) {
  const known = live.get(call.id);
  if (known && known.version > call.version) return false;
  if (LIVE_STATES.includes(call.state)) live.set(call.id, call);
  else live.delete(call.id);
  return true;
}

// A running timer of a live call (tickTimers moves it every second).
export function callTimer(tag, call) {
  const since = runningSince(call) || "";
  return h(tag, { class: "timer", dataset: { since } }, fmt.duration(fmt.secondsSince(since || null)));
}

// The outside party's number as the PBX wrote it: the caller of an inbound call, the callee of an outbound one.
export function outsideNumber(call) {
  if (call.direction === "internal") return null;
  return call.direction === "outbound" ? call.to_number : call.from_number;
}

// A number worth asking the hub about: a phone number's digits, not an extension (hub.phones decides for real).
function looksLikePhone(number) {
  return Boolean(number) && /^\+?[\d\s().-]+$/.test(number) && number.replace(/\D/g, "").length >= 8;
}

// A customer's number linking to their customer page (customer.js), when it looks like a phone number.
export function customerLink(ctx, text, number) {
  if (!looksLikePhone(number) || !ctx.openCustomer) return text || "–";
  return h("a", {
    href: `#customer/${encodeURIComponent(number)}`, class: "customer-page", title: t("customer.open"),
    onclick: (event) => {
      event.preventDefault();
      ctx.openCustomer(number);
    },
  }, text || number);
}

export function callExtensions(call) {
  const fromLegs = (call.legs || []).map((leg) => leg.extension).filter(Boolean);
  return [...new Set(call.extensions?.length ? call.extensions : fromLegs)].join(", ");
}

export class Calls {
  constructor(ctx) {
    this.ctx = ctx;
    this.live = new Map();
    this.extensions = new Map(); // number -> state
    this.holders = new Map(); // number -> member id
    this.history = [];
    this.historyLoaded = false;
    this.olderThan = null; // the history's next page starts after this call (the hub's next_before)
    this.alerts = []; // missed calls not yet dismissed, newest first: drawn from data, so in any language
    this.departments = [];
    this.missedCalls = new Map(); // id -> follow-up view (missed_call.updated keeps it current)
    this.missedCounts = null;
    // The customer behind a call: outside number (as written) -> the id of their Zalo thread this member may
    // see, null for none, "asking" while the hub is asked. Rows read over REST bring theirs (thread_id); a call
    // that arrives live is looked up once per number.
    this.customers = new Map();
    this.customerMoves = 0; // phones shared and threads taken away since start: an answer asked before may be stale
    $("#call-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      this.loadHistory().catch((err) => console.error(err));
    });
    $("#calls-older").addEventListener("click", () => this.loadHistory(true).catch((err) => console.error(err)));
    for (const format of ["xlsx", "csv"]) {
      $(`#calls-export-${format}`).addEventListener("click", () =>
        api.download("/api/calls/export", { ...this.filters(), format, lang: lang() }).catch((err) => console.error(err)));
    }
  }

  async load() {
    const [{ calls }, missed, extensions, departments] = await Promise.all([
      api.get("/api/calls/live"),
      api.get("/api/missed-calls", { limit: 200 }),
      api.get("/api/extensions").catch(() => ({ extensions: [] })),
      api.get("/api/departments").catch(() => ({ departments: [] })),
    ]);
    this.departments = departments?.departments || [];
    this.customers = new Map();
    this.learnCustomers(calls, outsideNumber);
    this.learnCustomers(missed.missed_calls, (m) => m.from_number);
    this.missedCalls = new Map(missed.missed_calls.map((m) => [m.id, m]));
    this.missedCounts = missed.counts;
    this.live = new Map(calls.map((call) => [call.id, call]));
    // A user is told only their own extension's state (null for the others): tiles for what is known.
    const known = extensions.extensions.filter((e) => e.state !== null);
    this.extensions = new Map(known.map((e) => [e.number, e.state]));
    this.holders = new Map(extensions.extensions.map((e) => [e.number, e.member_id]));
    this.render();
    if (this.historyLoaded) await this.loadHistory();
  }

  // The history's filters as the hub reads them (days from midnight to midnight in the company's time zone).
  filters() {
    const params = Object.fromEntries(new FormData($("#call-filters")).entries());
    params.from = fmt.zoneMidnight(params.from);
    if (params.to) params.to = new Date(Date.parse(fmt.zoneMidnight(params.to)) + 86400000).toISOString();
    else params.to = null;
    return params;
  }

  // The first page of the filtered history, or (older) the next page below what is shown.
  async loadHistory(older = false) {
    const params = this.filters();
    if (older) params.before = this.olderThan;
    const { calls, next_before } = await api.get("/api/calls", { ...params, limit: PAGE });
    this.learnCustomers(calls, outsideNumber);
    this.history = older ? [...this.history, ...calls.filter((c) => !this.history.some((h) => h.id === c.id))] : calls;
    this.olderThan = next_before;
    this.historyLoaded = true;
    this.renderHistory();
  }

  learnCustomers(rows, numberOf) {
    for (const row of rows) {
      const number = numberOf(row);
      if (number && "thread_id" in row) this.customers.set(number, row.thread_id);
    }
  }

  // A customer shared a phone in a thread (new to this console): numbers known to have no thread are asked
  // about again at the next drawing.
  customerChanged(thread, before) {
    if (!thread.customer?.phone || thread.customer.phone === before?.customer?.phone) return;
    this.customerMoves += 1;
    const unknown = [...this.customers].filter(([, known]) => known === null).map(([number]) => number);
    for (const number of unknown) this.customers.delete(number);
    if (unknown.length) this.render();
  }

  // A thread was taken from this member: its calls link to it no more.
  customerGone(threadId) {
    this.customerMoves += 1;
    const linked = [...this.customers].filter(([, known]) => known === threadId).map(([number]) => number);
    for (const number of linked) this.customers.set(number, null);
    if (linked.length) this.render();
  }

  // The customer's thread of a number, or null; a number not yet known is asked about once (the hub answers
  // with the threads this member may see), and the lists are drawn again when it answers.
  customerThread(number) {
    if (!looksLikePhone(number)) return null;
    const known = this.customers.get(number);
    if (known !== undefined) return known === "asking" ? null : known;
    this.customers.set(number, "asking");
    const moves = this.customerMoves;
    api.get("/api/threads", { phone: number, limit: 1 })
      .then(({ threads }) => {
        if (moves !== this.customerMoves) this.customers.delete(number); // the answer may be stale: ask again
        else this.customers.set(number, threads[0]?.id ?? null);
        if (this.customers.get(number) !== null) this.render();
      })
      .catch(() => this.customers.delete(number)); // asked again at the next drawing
    return null;
  }

  // A cell showing `text`, with a link to the Zalo thread of the customer whose number is `number`, if any.
  numberCell(text, number, attrs = {}) {
    const threadId = this.customerThread(number);
    return h("td", attrs, customerLink(this.ctx, text, number), threadId ? [" ", h("a", {
      href: "#", class: "customer-thread", dataset: { threadId }, title: t("calls.customerThreadTitle"),
      onclick: (event) => {
        event.preventDefault();
        this.ctx.openThread(threadId).catch((err) => console.error(err));
      },
    }, t("calls.customerThread"))] : null);
  }

  // Owners and managers see every call, so they may narrow the history to a department's extensions.
  renderDepartments() {
    const select = $("#call-filters select[name=department]");
    const chosen = select.value;
    replace(select, option("", t("calls.anyDepartment")), this.departments.map((d) => option(d.id, d.name, d.id === chosen)));
    select.hidden = !this.ctx.supervisor || !this.departments.length;
  }

  updated(call) {
    if (!applyCall(this.live, call)) return;
    if (this.historyLoaded && !LIVE_STATES.includes(call.state)) {
      this.history = [call, ...this.history.filter((c) => c.id !== call.id)];
      this.renderHistory();
    }
    this.renderLive();
  }

  extensionState({ extension, state }) {
    this.extensions.set(extension, state);
    this.renderExtensions();
  }

  render() {
    this.renderDepartments();
    this.renderLive();
    this.renderExtensions();
    this.renderHistory();
    this.renderAlerts();
    this.renderMissed();
  }

  // A user holds the missed calls that rang them or are assigned to them: one assigned away leaves.
  mayHold(m) {
    return this.ctx.supervisor || m.members.includes(this.ctx.me.id) || m.assignee_id === this.ctx.me.id;
  }

  missedUpdated(view) {
    const known = this.missedCalls.get(view.id);
    if (known && known.version > view.version) return;
    if (this.missedCounts) {
      if (known && this.mayHold(known)) this.missedCounts[known.state] -= 1;
      if (this.mayHold(view)) this.missedCounts[view.state] += 1;
    }
    if (this.mayHold(view)) this.missedCalls.set(view.id, view);
    else this.missedCalls.delete(view.id);
    this.renderMissed();
  }

  renderMissed() {
    if (this.missedCounts) $("#missed-counts").textContent = t("missedList.counts", this.missedCounts);
    const rows = [...this.missedCalls.values()].sort((a, b) => (a.ended_at < b.ended_at ? 1 : -1));
    replace($("#missed-calls tbody"), rows.length ? rows.map((m) => this.missedRow(m))
      : h("tr", {}, h("td", { colspan: 7, class: "muted" }, t("missedList.none"))));
  }

  missedRow(m) {
    const open = m.state === "open";
    const mine = this.ctx.supervisor || m.assignee_id === this.ctx.me.id || m.members.includes(this.ctx.me.id);
    const rang = m.rang.length ? m.rang.map((r) => `${r.extension} (${Math.round(r.ring_s || 0)} s)`).join(", ")
      : t("missed.nobody");
    const assignee = this.ctx.supervisor && open
      ? h("select", { class: "assignee", "aria-label": t("missedList.assignee"),
        onchange: (event) => this.act(() => api.put(`/api/missed-calls/${m.id}/assignee`, { member_id: event.target.value || null })) },
        option("", t("missedList.nobody")),
        [...this.ctx.members.values()].map((member) => option(member.id, member.name, member.id === m.assignee_id)))
      : (m.assignee_id ? this.ctx.memberName(m.assignee_id) : "–");
    const action = open && mine
      ? h("form", { class: "handle", onsubmit: (event) => {
        event.preventDefault();
        const note = new FormData(event.target).get("note");
        this.act(() => api.post(`/api/missed-calls/${m.id}/handled`, { note }));
      } },
      h("input", { name: "note", required: true, placeholder: t("missedList.note"), "aria-label": t("missedList.note") }),
      h("button", { type: "submit" }, t("missedList.handle")))
      : h("span", { class: "missed-note" }, m.note || "");
    return h("tr", { dataset: { missedId: m.id, state: m.state } },
      h("td", {}, fmt.when(m.ended_at)),
      this.numberCell(m.from_number, m.from_number, { class: "caller" }),
      h("td", { class: "waited" }, fmt.duration(m.wait_s)),
      h("td", { class: "rang" }, rang),
      h("td", {}, h("span", { class: `badge missed-state ${m.state}` }, t(`missedState.${m.state}`))),
      h("td", { class: "assignee" }, assignee),
      h("td", {}, action));
  }

  // The answer's missed_call.updated redraws the row; a refusal is said above the list.
  act(request) {
    const error = $("#missed-error");
    error.textContent = "";
    request().catch((err) => { error.textContent = this.ctx.errorText(err); });
  }

  renderLive() {
    const rows = [...this.live.values()].sort((a, b) => (a.started_at < b.started_at ? -1 : 1));
    replace($("#live-calls tbody"), rows.length ? rows.map((call) => h("tr", { dataset: { callId: call.id, state: call.state } },
      h("td", {}, t(`dir.${call.direction || "inbound"}`)),
      ...this.partyCells(call),
      h("td", {}, callExtensions(call) || "–"),
      h("td", {}, h("span", { class: `badge call ${call.state}` }, t(`state.${call.state}`))),
      callTimer("td", call)))
      : h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("calls.none"))));
  }

  // The "from" and "to" cells of a call row; the outside party's carries its customer's thread.
  partyCells(call) {
    const to = call.hotline || call.to_number;
    if (call.direction === "outbound") return [h("td", {}, call.from_number || "–"), this.numberCell(to, call.to_number)];
    if (call.direction === "internal") return [h("td", {}, call.from_number || "–"), h("td", {}, to || "–")];
    return [this.numberCell(call.from_number, call.from_number), h("td", {}, to || "–")];
  }

  renderExtensions() {
    replace($("#extension-tiles"), [...this.extensions.entries()].sort().map(([number, state]) =>
      extensionTile(number, state, this.holders.get(number) ? this.ctx.memberName(this.holders.get(number)) : null)));
  }

  renderHistory() {
    const body = $("#call-history tbody");
    if (!this.historyLoaded) return;
    $("#calls-older").hidden = !this.olderThan;
    replace(body, this.history.length ? this.history.map((call) => h("tr", { dataset: { callId: call.id, outcome: call.outcome || "" } },
      h("td", {}, fmt.when(call.started_at)),
      h("td", {}, t(`dir.${call.direction || "inbound"}`)),
      ...this.partyCells(call),
      h("td", {}, callExtensions(call) || "–"),
      h("td", { class: "department" }, this.departmentNames(call) || "–"),
      h("td", {}, call.outcome ? h("span", { class: `badge outcome ${call.outcome}` }, t(`outcome.${call.outcome}`)) : "–"),
      h("td", {}, fmt.duration(call.duration_s)),
      h("td", {}, call.end_reason_text ? call.end_reason_text[lang()] : ""),
      h("td", { class: "recordings" }, (call.recording_urls || []).map(recording))))
      : h("tr", {}, h("td", { colspan: 10, class: "muted" }, t("calls.none"))));
  }

  // The departments of whom the call rang, as they were then (the hub keeps them on the call).
  departmentNames(call) {
    const names = new Map(this.departments.map((d) => [d.id, d.name]));
    return (call.departments || []).map((id) => names.get(id) || "").filter(Boolean).join(", ");
  }

  // The alert stays until dismissed: a missed customer is worth a click. The last five are kept.
  missed(alert) {
    this.alerts = [alert, ...this.alerts.filter((a) => a.id !== alert.id)].slice(0, 5);
    this.renderAlerts();
  }

  dismiss(callId) {
    this.alerts = this.alerts.filter((a) => a.id !== callId);
    this.renderAlerts();
  }

  renderAlerts() {
    replace($("#toasts"), this.alerts.map((alert) => missedAlert(alert, () => this.dismiss(alert.id))));
  }
}

// A recording plays in the page when its host is one the hub's policy names (HUB_RECORDING_HOSTS);
// the browser refuses any other, and the link still says where it is.
function recording(url) {
  return h("div", { class: "recording" },
    h("audio", { controls: true, preload: "none", src: url }),
    h("a", { href: url, target: "_blank", rel: "noopener" }, t("calls.recordingLink")));
}

function missedAlert(alert, dismiss) {
  const rang = alert.rang.length
    ? alert.rang.map((r) => `${r.extension} (${Math.round(r.ring_s || 0)} s)`).join(", ")
    : t("missed.nobody");
  return h("div", { class: "toast missed", role: "alert", dataset: { callId: alert.id } },
    h("strong", {}, t("missed.title")),
    h("dl", {},
      h("dt", {}, t("missed.caller")), h("dd", { class: "caller" }, alert.from || "–"),
      h("dt", {}, t("calls.hotline")), h("dd", {}, alert.hotline || "–"),
      h("dt", {}, t("missed.rang")), h("dd", { class: "rang" }, rang),
      h("dt", {}, t("missed.reason")), h("dd", { class: "reason" }, alert.end_reason_text[lang()])),
    h("button", { type: "button", onclick: dismiss }, t("missed.dismiss")));
}

export function extensionTile(number, state, holder = null) {
  return h("div", { class: `ext-tile ${state}`, dataset: { extension: number, state } },
    h("strong", {}, number), h("span", {}, t(`ext.${state}`)), holder ? h("small", {}, holder) : null);
}

// Every element with data-since shows the time elapsed since it, on the hub's clock.
export function tickTimers() {
  for (const el of document.querySelectorAll("[data-since]")) {
    if (el.dataset.since) el.textContent = fmt.duration(fmt.secondsSince(el.dataset.since));
  }
}
