// The agent and supervisor console: loads the lists over REST, then keeps them live from Socket.IO.
//
// Start-up order matters for "nothing lost, nothing twice": the socket connects first (last_seq
// null); once the hub says sync.done the lists are read over REST, and events that arrived
// meanwhile are applied on top (threads and calls by `version`, messages by id). After a drop the
// socket resumes from the last applied seq (live.js); after sync.reset the lists are read again.
import { Admin } from "./admin.js";
import { Alerts } from "./alerts.js";
import { api, ApiError, endSession, session } from "./api.js";
import { Calls, tickTimers } from "./calls.js";
import { Chat } from "./chat.js";
import { Consents } from "./consents.js";
import { Contacts } from "./contacts.js";
import { CustomerPage } from "./customer.js";
import { Dashboard } from "./dashboard.js";
import { $ } from "./dom.js";
import { Followers } from "./followers.js";
import * as fmt from "./format.js";
import { applyI18n, has, langButton, onLangChange, say, t } from "./i18n.js";
import { connectLive } from "./live.js";
import { jobUpdated } from "./jobs.js";
import { applyOaLinkEvent } from "./oa_links.js";
import { Zns } from "./zns.js";
import { Journeys } from "./journeys.js";
import { ZccReport } from "./zcc_report.js";
import { Campaigns } from "./campaigns.js";

// Why the hub refused this console's connection, as the login page says it.
const REFUSALS = { member_removed: "removed", token_revoked: "password_changed" };

const saved = session();
if (!saved?.token) location.replace("/"); // nothing below connects without a session
const me = saved?.member ?? { id: "", name: "", role: "user" };

const ctx = {
  me,
  supervisor: me.role === "owner" || me.role === "manager",
  members: new Map([[me.id, me]]),
  presence: new Map(),
  labels: new Map(),
  oaLinks: [],
  live: null,
  memberName: (id) => ctx.members.get(id)?.name || t("someone"),
  errorText: (err) => {
    if (err instanceof ApiError && has(`error.${err.code}`)) {
      return t(`error.${err.code}`, { until: err.details.can_resend_at ? fmt.when(err.details.can_resend_at) : "" });
    }
    return t("error.generic", { message: err.message });
  },
};

const chat = new Chat(ctx);
const calls = new Calls(ctx);
const consents = new Consents(ctx);
const admin = new Admin(ctx, $("#tab-admin"));
const dashboard = ctx.supervisor ? new Dashboard(ctx, $("#tab-dashboard")) : null; // rulebook: Action.dashboard
const zns = ctx.supervisor ? new Zns(ctx, $("#tab-zns")) : null; // rulebook: Action.zns
const journeys = zns ? new Journeys(ctx, $("#zns-journeys")) : null; // ZNS journeys, in the ZNS tab
const zccReport = ctx.supervisor ? new ZccReport(ctx, $("#zcc-report")) : null; // rulebook: Action.all_consents
const campaigns = zns ? new Campaigns(ctx, $("#zns-campaigns"), zns) : null; // ZNS campaigns, in the ZNS tab
const alerts = new Alerts(ctx, { chat, calls }); // notifications, sound, the unread count in the title
const followers = ctx.supervisor ? new Followers(ctx, $("#tab-followers")) : null; // rulebook: Action.followers
const contacts = new Contacts(ctx, $("#tab-contacts")); // the Contacts tab (contacts.js)
ctx.showTab = (name) => showTab(name);
ctx.threadOpened = (threadId) => alerts.threadOpened(threadId);
// A thread named elsewhere (a call's customer, a notification): the Chats tab, on it, even outside the filters.
ctx.openThread = async (threadId) => {
  showTab("chats");
  if (!chat.threads.has(threadId)) chat.upsert(await api.get(`/api/threads/${threadId}`));
  await chat.open(threadId);
};
ctx.companyChanged = (company) => {
  applyCompany(company);
  rerender();
};
ctx.labelsChanged = () => {
  chat.renderFilters();
  chat.renderList();
};
ctx.reconnect = () => ctx.live.socket.disconnect().connect(); // with the session's token of now
let ready = false;
let held = [];

async function loadAll() {
  const [company, labels, members, links, online] = await Promise.all([
    api.get("/api/company"),
    api.get("/api/labels"),
    ctx.supervisor ? api.get("/api/members") : null,
    ctx.supervisor ? api.get("/api/oa-links") : null,
    ctx.supervisor ? api.get("/api/presence") : null,
  ]);
  if (online) ctx.presence = new Map(Object.entries(online.members));
  applyCompany(company);
  ctx.labels = new Map(labels.labels.map((label) => [label.id, label]));
  if (members) ctx.members = new Map(members.members.map((m) => [m.id, m]));
  ctx.oaLinks = links ? links.oa_links : [];
  chat.renderFilters();
  await Promise.all([chat.load(), calls.load(), consents.load()]);
  const oas = ctx.oaLinks.length ? ctx.oaLinks.map((link) => [link.oa_id, link.name])
    : [...new Set([...chat.threads.values()].map((th) => th.oa_id))].map((id) => [id, id]);
  consents.renderOaChoice(oas);
}

function applyCompany(company) {
  ctx.company = company;
  fmt.setTimeZone(company.timezone);
  $("#brand").removeAttribute("data-i18n"); // the company's name, in every language
  $("#brand").textContent = company.name;
  alerts.setTitle(`${company.name} — Hub`);
}

// Lists are (re)read while events are held back, then the held events are applied in seq order.
async function reload() {
  ready = false;
  try {
    await loadAll();
    admin.reload(); // its sections, too, read afresh
    customer.reload().catch((err) => console.error(err));
    if (contacts.loaded) contacts.reload().catch((err) => console.error(err));
  } finally {
    ready = true;
    const backlog = held;
    held = [];
    for (const envelope of backlog) apply(envelope);
  }
}

function apply(envelope) {
  // Whether it is news to this member, judged as it arrives: against the lists before it moves them (and
  // before a reload under way reads them with it already in).
  alerts.seen(envelope);
  if (!ready) {
    held.push(envelope);
    return;
  }
  const data = envelope.data;
  dashboard?.apply(envelope.type, data); // figures a call, a message or a thread changed: refreshed soon
  customer.apply(envelope.type, data); // the open customer page: its number's calls, threads, ZNS, consents
  switch (envelope.type) {
    case "thread.created":
    case "thread.updated":
    case "thread.assigned":
      calls.customerChanged(data, chat.threads.get(data.id)); // a phone shared: calls may now link to it
      chat.upsert(data);
      break;
    case "thread.removed":
      calls.customerGone(data.thread_id);
      chat.remove(data.thread_id);
      break;
    case "message.created":
      chat.addMessage(data);
      break;
    case "message.updated":
      chat.updateMessage(data);
      break;
    case "reply_window.changed": {
      const thread = chat.threads.get(data.thread_id);
      if (thread) chat.upsert({ ...thread, reply_window: { state: data.state, until: data.until } });
      break;
    }
    case "label.created":
    case "label.updated":
      ctx.labels.set(data.id, data);
      ctx.labelsChanged();
      admin.apply(envelope.type, data);
      break;
    case "label.removed":
      ctx.labels.delete(data.id);
      ctx.labelsChanged();
      admin.apply(envelope.type, data);
      break;
    case "company.updated": // a new name or time zone: every time on screen moves at once
      applyCompany(data);
      rerender();
      admin.apply(envelope.type, data);
      break;
    case "member.created":
    case "member.updated":
      ctx.members.set(data.id, data);
      rerender();
      admin.apply(envelope.type, data);
      break;
    case "member.removed":
      ctx.members.delete(data.id);
      rerender();
      admin.apply(envelope.type, data);
      break;
    case "department.created":
    case "department.updated":
    case "department.removed":
    case "wallboard.revoked":
    case "wallboard.issued":
    case "hotline.created":
    case "hotline.removed":
    case "extension.created":
    case "extension.removed":
      admin.apply(envelope.type, data);
      break;
    case "session.revoked": // this account's password changed: a console still on the old token leaves
      if (data.member_id === me.id && !ctx.changingPassword && session()?.token === ctx.liveToken) {
        endSession("password_changed");
      }
      break;
    case "oa_link.created":
    case "oa_link.updated":
      applyOaLinkEvent(envelope, ctx); // keeps ctx.oaLinks and a mounted OA links screen current
      break;
    case "call.updated":
      calls.updated(data);
      break;
    case "call.missed":
      calls.missed(data);
      break;
    case "missed_call.updated":
      calls.missedUpdated(data);
      break;
    case "extension.state":
      calls.extensionState(data);
      admin.apply(envelope.type, data);
      break;
    case "consent.updated":
      consents.updated(data);
      zccReport?.consentUpdated(data);
      break;
    case "zns.updated":
      zns?.updated(data);
      journeys?.messageUpdated(data);
      break;
    case "journey.updated":
      journeys?.updated(data);
      break;
    case "job.updated": // an import's, a bulk send's or a sync's progress, on whichever screen shows it
      jobUpdated(data);
      break;
    default:
      break; // future types: nothing shown here yet
  }
  followers?.apply(envelope.type, data); // follower.updated, job.updated (its syncs), OA links (its OA choice)
  contacts.apply(envelope.type, data); // contact.*, contacts.imported, job.updated (its imports), the internal directory
  campaigns?.apply(envelope.type, data); // job.updated of ZNS campaigns
}

function onEphemeral(name, data) {
  if (name === "typing") chat.typing(data);
  else if (name === "thread.viewing") chat.viewing(data);
  else if (name === "presence.updated") {
    ctx.presence.set(data.member_id, data.status);
    if (chat.current) chat.renderHeader();
    admin.apply(name, data);
  }
}

// -- the top bar ----------------------------------------------------------------------------------

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.tab === name);
  for (const panel of document.querySelectorAll(".tab-panel")) panel.hidden = panel.id !== `tab-${name}`;
  if (name === "calls" && !calls.historyLoaded) calls.loadHistory().catch((err) => console.error(err));
  if (name === "admin") admin.open();
  if (name === "dashboard") dashboard?.open();
  if (name === "zns") zns?.open();
  if (name === "zns") journeys?.open();
  if (name === "zns") campaigns?.open();
  if (name === "followers") followers?.open();
  if (name === "contacts") contacts.open();
  alerts.tabShown(name);
}

function rerender() {
  $("#who").textContent = `${me.name} · ${t(`role.${me.role}`)}`;
  if (ctx.company) $("#brand").textContent = ctx.company.name; // never the product's name in the company's place
  chat.renderFilters();
  chat.renderList();
  chat.renderConversation();
  chat.renderTyping();
  if (!chat.current && $("#conv-empty").dataset.reason) $("#conv-empty").textContent = t($("#conv-empty").dataset.reason);
  calls.render();
  consents.render();
}

applyI18n();
langButton($("#lang"));
onLangChange(() => {
  rerender();
  consents.bulk?.render();
  zns?.render();
  admin.render();
  dashboard?.render();
  followers?.render();
  contacts.render();
  campaigns?.render();
});
$("#who").textContent = `${me.name} · ${t(`role.${me.role}`)}`;
$("#presence").value = localStorage.getItem("hub.presence") || "available";
for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => showTab(tab.dataset.tab));
// A link into the Administration tab (#admin/<section>): where Zalo's OAuth callback sends the owner back.
const deepLink = location.hash.match(/^#admin(?:\/(\w+))?$/);
if (deepLink) {
  if (deepLink[1] && admin.sections.has(deepLink[1])) admin.current = deepLink[1];
  showTab("admin");
}
$("#logout").addEventListener("click", () => endSession());
$("#presence").addEventListener("change", (event) => {
  localStorage.setItem("hub.presence", event.target.value);
  ctx.live.emit("presence.set", { status: event.target.value });
});
if (ctx.supervisor) {
  $("[data-tab=dashboard]").hidden = false;
  $("[data-tab=zns]").hidden = false;
  $("[data-tab=followers]").hidden = false;
  $("#wallboard-link").hidden = false;
  $("#wallboard-link").addEventListener("click", async () => {
    try {
      const issued = await api.post("/api/wallboard-tokens", { name: `${t("wb.title")} ${fmt.dateTime(new Date().toISOString())}` });
      const url = `${location.origin}/wallboard#token=${issued.token}`;
      $("#wallboard-url").href = url;
      say($("#wallboard-url"), () => url);
    } catch (err) {
      $("#wallboard-url").removeAttribute("href");
      say($("#wallboard-url"), () => ctx.errorText(err));
    }
    $("#wallboard-dialog").showModal();
  });
}
setInterval(tickTimers, 1000);
alerts.load().catch((err) => console.error(err));

ctx.live = saved?.token && connectLive({
  token: () => {
    ctx.liveToken = session()?.token; // after a password change here, the new one
    return ctx.liveToken;
  },
  banner: $("#banner"),
  auth: () => ({ status: $("#presence").value }),
  onEvent: apply,
  onEphemeral,
  onSynced: async (first) => {
    if (first) await reload();
    else if (chat.current) ctx.live.emit("thread.viewing", { thread_id: chat.current, viewing: true });
  },
  onReset: reload,
  onRefused: (code) => {
    if (code === "token_revoked" && ctx.changingPassword) return; // this console's new token reconnects it
    endSession(REFUSALS[code] ?? "expired");
  },
});

// -- the customer page (customer.js): #customer/<phone>, opened from a call's number or a thread's phone --------

const customer = new CustomerPage(ctx, $("#tab-customer"));
ctx.openCustomer = (phone) => {
  $("[data-tab=customer]").hidden = false;
  showTab("customer");
  history.replaceState(null, "", `#customer/${encodeURIComponent(phone)}`);
  customer.open(phone).catch((err) => console.error(err));
};
function customerFromHash() {
  const wanted = location.hash.match(/^#customer\/(.+)$/);
  if (wanted) ctx.openCustomer(decodeURIComponent(wanted[1]));
}
window.addEventListener("hashchange", customerFromHash);
onLangChange(() => customer.render());
customerFromHash();
