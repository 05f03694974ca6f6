// Alerts that reach a busy member: a browser notification and a short sound, each switchable (the member's
// own preferences, kept by the hub), and the count of unread alerts in the tab's title.
//
// Only for what is the member's own: a thread newly assigned to them, a customer's message on a thread
// assigned to them while this tab is hidden, a missed call that rang them (the call's members). The console
// receives only events it is entitled to, but an owner receives every thread's and a supervisor every
// call's: "mine" is narrower than "may see", so an owner is not woken for an agent's chat.
//
// The browser's permission is asked for only when the member turns notifications on in the settings dialog,
// after it has said what they are for; never on page load.
import { api } from "./api.js";
import { $, h } from "./dom.js";
import { addStrings, lang, say, t } from "./i18n.js";

addStrings({
  vi: {
    "alerts.button": "Thông báo",
    "alerts.title": "Thông báo và âm thanh",
    "alerts.explain": "Hub có thể báo cho bạn khi một hội thoại được giao cho bạn, khi khách của bạn nhắn tin lúc thẻ này đang ẩn, và khi bạn lỡ một cuộc gọi đã đổ chuông máy bạn — bằng thông báo của trình duyệt và một tiếng chuông ngắn. Chỉ những gì của bạn, không bao giờ hội thoại hay cuộc gọi của người khác.",
    "alerts.notify": "Thông báo trên trình duyệt",
    "alerts.sound": "Phát âm thanh",
    "alerts.testSound": "Nghe thử",
    "alerts.close": "Đóng",
    "alerts.granted": "Trình duyệt đã cho phép thông báo.",
    "alerts.ask": "Khi bật, trình duyệt sẽ hỏi bạn cho phép (chỉ một lần).",
    "alerts.denied": "Trình duyệt đang chặn thông báo của trang này. Hãy cho phép trong phần cài đặt trang của trình duyệt, rồi bật lại.",
    "alerts.unsupported": "Trình duyệt này không hỗ trợ thông báo ở đây (cần HTTPS).",
    "alerts.saveFailed": "Không lưu được lựa chọn: {message}",
    "alerts.assigned": "Hội thoại mới được giao cho bạn",
    "alerts.message": "Tin nhắn mới từ {name}",
    "alerts.missed": "Cuộc gọi nhỡ",
    "alerts.customer": "Khách hàng",
  },
  en: {
    "alerts.button": "Alerts",
    "alerts.title": "Notifications and sound",
    "alerts.explain": "The hub can tell you when a chat is assigned to you, when your customer writes while this tab is hidden, and when you miss a call that rang you — with a browser notification and a short chime. Only what is yours, never other people's chats or calls.",
    "alerts.notify": "Browser notifications",
    "alerts.sound": "Play a sound",
    "alerts.testSound": "Test",
    "alerts.close": "Close",
    "alerts.granted": "The browser allows notifications.",
    "alerts.ask": "Turning them on makes the browser ask for your permission (once).",
    "alerts.denied": "The browser blocks this page's notifications. Allow them in the browser's site settings, then turn them on again.",
    "alerts.unsupported": "This browser cannot show notifications here (HTTPS is needed).",
    "alerts.saveFailed": "Could not save the choice: {message}",
    "alerts.assigned": "A new chat was assigned to you",
    "alerts.message": "New message from {name}",
    "alerts.missed": "Missed call",
    "alerts.customer": "Customer",
  },
});

// What an event raises for member `me`, or null. `threads` and `missedCalls` are the console's lists as they
// were before the event; `mine`, the threads already alerted as assigned to me and still mine.
export function alertFor(envelope, { me, threads, missedCalls, hidden, mine = new Set() }) {
  const data = envelope.data;
  switch (envelope.type) {
    case "thread.assigned": {
      // Every assignment is published as thread.assigned (by hand, automatic, from the queue), so it alone
      // says a thread became mine; thread.updated may even arrive before it (a later version of the thread).
      // Not when I gave it to myself, nor twice while it stays mine (a re-published assignment).
      if (data.to_member_id !== me || data.from_member_id === me || data.by_member_id === me) return null;
      if (mine.has(data.id)) return null;
      return { key: `assigned:${data.id}:${data.version}`, kind: "assigned", threadId: data.id, thread: data };
    }
    case "message.created": {
      const thread = threads.get(data.thread_id);
      if (data.direction !== "in" || !hidden || thread?.assignee_id !== me) return null;
      return { key: `message:${data.id}`, kind: "message", threadId: data.thread_id, thread, message: data };
    }
    case "call.missed": {
      const followUp = missedCalls.get(data.id); // missed_call.updated comes first, with whom the call rang
      if (!followUp?.members.includes(me)) return null;
      return { key: `missed:${data.id}`, kind: "missed", callId: data.id, call: data };
    }
    default:
      return null;
  }
}

function customerName(thread) {
  return thread?.customer?.name || thread?.customer?.phone || t("alerts.customer");
}

function words(alert) {
  if (alert.kind === "assigned") {
    return { title: t("alerts.assigned"), body: [customerName(alert.thread), alert.thread.last_message?.text].filter(Boolean).join(": ") };
  }
  if (alert.kind === "message") {
    return { title: t("alerts.message", { name: customerName(alert.thread) }), body: alert.message.text || `[${alert.message.kind}]` };
  }
  return { title: t("alerts.missed"), body: alert.call.text[lang()] };
}

// A short two-note chime made by the Web Audio API (no audio file to license or serve).
let audio = null;
function chime() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  audio ??= new Context();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  const now = audio.currentTime;
  [880, 1318.5].forEach((frequency, i) => {
    const start = now + i * 0.12;
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.type = "sine";
    tone.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.28);
    tone.connect(gain).connect(audio.destination);
    tone.start(start);
    tone.stop(start + 0.3);
  });
}

function permission() {
  if (!("Notification" in window) || !window.isSecureContext) return "unsupported";
  return Notification.permission; // default | granted | denied
}

export class Alerts {
  // ctx: the console's ({me, openThread, showTab}); lists: {chat, calls} (threads and missed calls as known).
  constructor(ctx, { chat, calls }) {
    this.ctx = ctx;
    this.chat = chat;
    this.calls = calls;
    this.prefs = { notify: false, sound: true };
    this.unread = []; // alerts raised and not yet looked at: {key, threadId?, callId?}
    this.raised = new Set(); // keys: a replayed event raises nothing twice
    this.mine = new Set(); // threads alerted as assigned to me, until they are someone else's
    this.baseTitle = document.title;
    this.mountSettings();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.clear(() => true);
    });
    window.addEventListener("focus", () => this.clear(() => true));
  }

  async load() {
    this.prefs = await api.get("/api/account/preferences");
    this.renderSettings();
  }

  // Called with every event the console applies, before it is applied (the lists still as they were).
  seen(envelope) {
    const me = this.ctx.me.id;
    const alert = alertFor(envelope, {
      me, threads: this.chat.threads, missedCalls: this.calls.missedCalls, hidden: document.hidden, mine: this.mine,
    });
    const { type, data } = envelope;
    if (type === "thread.removed") this.mine.delete(data.thread_id);
    if (type === "thread.assigned" && data.to_member_id !== me) this.mine.delete(data.id);
    if (!alert || this.raised.has(alert.key)) return;
    this.raised.add(alert.key);
    if (alert.kind === "assigned") this.mine.add(alert.threadId);
    this.raise(alert);
  }

  raise(alert) {
    this.unread.push({ key: alert.key, threadId: alert.threadId, callId: alert.callId });
    this.renderTitle();
    if (this.prefs.sound) chime();
    if (!this.prefs.notify || permission() !== "granted") return;
    const { title, body } = words(alert);
    let note;
    try {
      note = new Notification(title, { body, tag: alert.key, lang: lang() });
    } catch {
      return; // a browser that shows notifications only through a service worker (Chrome on Android)
    }
    note.onclick = () => {
      window.focus();
      note.close();
      if (alert.threadId) this.ctx.openThread(alert.threadId).catch((err) => console.error(err)); // moved away since
      else this.ctx.showTab("calls");
    };
  }

  // -- the unread count in the tab's title --------------------------------------------------------

  setTitle(base) {
    this.baseTitle = base;
    this.renderTitle();
  }

  renderTitle() {
    document.title = this.unread.length ? `(${this.unread.length}) ${this.baseTitle}` : this.baseTitle;
  }

  clear(which) {
    const before = this.unread.length;
    this.unread = this.unread.filter((alert) => !which(alert));
    if (this.unread.length !== before) this.renderTitle();
  }

  threadOpened(threadId) {
    this.clear((alert) => alert.threadId === threadId);
  }

  tabShown(name) {
    if (name === "calls") this.clear((alert) => Boolean(alert.callId));
  }

  // -- settings: a top-bar button and its dialog ------------------------------------------------------

  mountSettings() {
    const status = h("p", { id: "alerts-status", class: "muted" });
    const error = h("p", { id: "alerts-error", class: "form-error", hidden: true });
    this.dialog = h("dialog", { id: "alerts-dialog", class: "admin-dialog alerts-dialog", "aria-labelledby": "alerts-heading" },
      h("h3", { id: "alerts-heading", "data-i18n": "alerts.title" }, t("alerts.title")),
      h("p", { "data-i18n": "alerts.explain" }, t("alerts.explain")),
      h("label", { class: "check" },
        h("input", { id: "alerts-notify", type: "checkbox", onchange: (event) => this.toggleNotify(event.target) }),
        " ", h("span", { "data-i18n": "alerts.notify" }, t("alerts.notify"))),
      status,
      h("label", { class: "check" },
        h("input", { id: "alerts-sound", type: "checkbox", onchange: (event) => this.save({ sound: event.target.checked }) }),
        " ", h("span", { "data-i18n": "alerts.sound" }, t("alerts.sound")),
        " ", h("button", { type: "button", id: "alerts-test-sound", class: "link", "data-i18n": "alerts.testSound", onclick: chime },
          t("alerts.testSound"))),
      error,
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", id: "alerts-close", "data-i18n": "alerts.close", onclick: () => this.dialog.close() },
          t("alerts.close"))));
    this.button = h("button", { type: "button", id: "alerts-settings", class: "link alerts-settings",
      "aria-haspopup": "dialog", onclick: () => {
        this.renderSettings();
        this.dialog.showModal();
      } }, h("span", { "data-i18n": "alerts.button" }, t("alerts.button")));
    $("#lang").before(this.button);
    document.body.append(this.dialog);
  }

  renderSettings() {
    const state = permission();
    $("#alerts-notify").checked = this.prefs.notify && state === "granted";
    $("#alerts-notify").disabled = state === "unsupported";
    $("#alerts-sound").checked = this.prefs.sound;
    this.button.classList.toggle("on", this.prefs.notify || this.prefs.sound);
    const key = { unsupported: "alerts.unsupported", denied: "alerts.denied", granted: "alerts.granted" }[state] || "alerts.ask";
    say($("#alerts-status"), () => t(key));
  }

  // Turning notifications on is the one place the browser's permission is asked for, and only if it has
  // never been answered: a refusal stands until the member changes it in the browser.
  async toggleNotify(box) {
    if (box.checked && permission() === "default") await Notification.requestPermission();
    if (box.checked && permission() !== "granted") {
      this.renderSettings();
      return;
    }
    await this.save({ notify: box.checked });
  }

  async save(change) {
    const error = $("#alerts-error");
    error.hidden = true;
    try {
      this.prefs = await api.patch("/api/account/preferences", change);
    } catch (err) {
      error.hidden = false;
      say(error, () => t("alerts.saveFailed", { message: this.ctx.errorText(err) }));
    }
    this.renderSettings();
  }
}
