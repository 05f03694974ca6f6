// Zalo chats in the console: the thread list with its filters, the open conversation, the composer.
import { api } from "./api.js";
import { $, h, option, replace, safeUrl } from "./dom.js";
import * as fmt from "./format.js";
import { lang, say, t } from "./i18n.js";
import { customerLink } from "./calls.js";

const MARKS = { sending: "…", sent: "✓", delivered: "✓✓", seen: "✓✓", failed: "!" };
const PAGE = 50; // threads per request; "load more" asks for the next page after the last one

export class Chat {
  constructor(ctx) {
    this.ctx = ctx; // { me, supervisor, members, presence, labels, oaLinks, live, errorText, memberName }
    this.threads = new Map();
    this.current = null;
    this.messages = new Map();
    this.nextBefore = null;
    this.viewers = new Map(); // thread id -> Set of member ids
    this.typingTimers = new Map(); // member id -> timer, for the open thread
    this.lastTypingSent = 0;
    this.bindControls();
  }

  // -- filters and the thread list ----------------------------------------------------------------

  filters() {
    return {
      text: $("#f-text").value.trim(), status: $("#f-status").value, unread: $("#f-unread").checked,
      label: $("#f-label").value, assignee: $("#f-assignee").value, oa: $("#f-oa").value,
    };
  }

  query() {
    const f = this.filters();
    const assignee = f.assignee === "me" ? this.ctx.me.id : f.assignee;
    return { text: f.text, status: f.status, unread: f.unread ? "true" : "", label: f.label, assignee, oa: f.oa,
             limit: PAGE };
  }

  matches(thread) {
    const f = this.filters();
    if (f.status && thread.status !== f.status) return false;
    if (f.unread && !thread.unread) return false;
    if (f.label && !thread.labels.includes(f.label)) return false;
    if (f.assignee === "me" && thread.assignee_id !== this.ctx.me.id) return false;
    if (f.assignee === "none" && thread.assignee_id) return false;
    if (f.assignee && !["me", "none"].includes(f.assignee) && thread.assignee_id !== f.assignee) return false;
    if (f.oa && thread.oa_link_id !== f.oa && thread.oa_id !== f.oa) return false;
    if (f.text) {
      const needle = f.text.toLowerCase();
      const hay = [thread.customer.name, thread.customer.phone, thread.last_message?.text].join(" ").toLowerCase();
      if (!hay.includes(needle)) return false;
    }
    return true;
  }

  async load() {
    const { threads } = await api.get("/api/threads", this.query());
    this.threads = new Map(threads.map((thread) => [thread.id, thread]));
    this.nextAfter = threads.length === PAGE ? threads[threads.length - 1].id : null;
    if (this.current && !this.threads.has(this.current)) {
      // The open thread may only be outside the filters; ask for it, and close it if it is gone.
      try {
        const thread = await api.get(`/api/threads/${this.current}`);
        this.threads.set(thread.id, thread);
      } catch {
        this.close("thread.removed");
      }
    }
    this.renderList();
    if (this.current) {
      await this.loadMessages(this.current);
      this.renderConversation();
    }
  }

  renderFilters() {
    const f = this.filters();
    replace($("#f-label"), option("", t("filter.label.any")),
      [...this.ctx.labels.values()].map((label) => option(label.id, label.name, label.id === f.label)));
    if (this.ctx.supervisor) {
      $("#f-assignee").hidden = false;
      const others = [...this.ctx.members.values()].filter((m) => m.id !== this.ctx.me.id);
      replace($("#f-assignee"), option("", t("filter.assignee.any")), option("me", t("filter.assignee.me"), f.assignee === "me"),
        this.ctx.me.role === "owner" ? option("none", t("filter.assignee.none"), f.assignee === "none") : null,
        this.ctx.me.role === "owner" ? others.map((m) => option(m.id, m.name, m.id === f.assignee)) : null);
    }
    if (this.ctx.oaLinks.length > 1) {
      $("#f-oa").hidden = false;
      replace($("#f-oa"), option("", t("filter.oa.any")),
        this.ctx.oaLinks.map((link) => option(link.id, link.name, link.id === f.oa)));
    }
  }

  sorted() {
    const key = (th) => th.last_message?.at || th.created_at;
    return [...this.threads.values()].filter((th) => this.matches(th) || th.id === this.current)
      .sort((a, b) => (key(b) > key(a) ? 1 : key(b) < key(a) ? -1 : 0));
  }

  async loadMore() {
    const { threads } = await api.get("/api/threads", { ...this.query(), after: this.nextAfter });
    for (const thread of threads) if (!this.threads.has(thread.id)) this.threads.set(thread.id, thread);
    this.nextAfter = threads.length === PAGE ? threads[threads.length - 1].id : null;
    this.renderList();
  }

  renderList() {
    const list = $("#thread-list");
    const threads = this.sorted();
    if (!threads.length) {
      replace(list, h("li", { class: "empty" }, t("threads.empty")));
      return;
    }
    replace(list, threads.map((thread) => this.threadItem(thread)),
      this.nextAfter ? h("li", { class: "more" }, h("button", { type: "button", class: "link",
        onclick: () => this.loadMore().catch((err) => console.error(err)) }, t("threads.more"))) : null);
  }

  threadItem(thread) {
    const last = thread.last_message;
    const preview = last ? (last.direction === "out" ? "↩ " : "") + (last.text || `[${kindLabel(last.kind)}]`) : "";
    return h("li", {
      class: `thread${thread.id === this.current ? " active" : ""}${thread.unread ? " unread" : ""}`,
      dataset: { threadId: thread.id }, tabindex: 0, onclick: () => this.open(thread.id),
      onkeydown: (e) => e.key === "Enter" && this.open(thread.id),
    },
      avatar(thread),
      h("div", { class: "thread-main" },
        h("div", { class: "thread-top" },
          h("span", { class: "thread-name" }, customerName(thread)),
          h("time", { class: "muted" }, fmt.when(last?.at || thread.created_at))),
        h("div", { class: "thread-preview" }, preview),
        h("div", { class: "thread-meta" },
          windowBadge(thread.reply_window, true),
          thread.status === "resolved" ? h("span", { class: "badge done" }, t("thread.resolved")) : null,
          thread.labels.map((id) => labelChip(this.ctx.labels.get(id))),
          this.ctx.supervisor ? h("span", { class: "assignee muted" },
            thread.assignee_id ? this.ctx.memberName(thread.assignee_id) : t("thread.unassigned")) : null)),
      thread.unread ? h("span", { class: "unread-count", title: t("filter.unread") }, thread.unread) : null);
  }

  upsert(thread) {
    const known = this.threads.get(thread.id);
    if (known && known.version > thread.version) return; // an older view of it arrived late
    this.threads.set(thread.id, thread);
    this.renderList();
    if (thread.id === this.current) this.renderHeader();
  }

  remove(threadId) {
    this.threads.delete(threadId);
    this.viewers.delete(threadId);
    if (threadId === this.current) this.close("thread.removed");
    this.renderList();
  }

  // -- the open conversation ----------------------------------------------------------------------

  async open(threadId) {
    if (this.current === threadId) return;
    if (this.current) this.ctx.live.emit("thread.viewing", { thread_id: this.current, viewing: false });
    this.current = threadId;
    this.messages = new Map();
    this.nextBefore = null;
    this.clearTyping();
    $("#composer-error").hidden = true;
    $("#conv-empty").hidden = true;
    $("#conv").hidden = false;
    this.renderList();
    this.renderConversation();
    this.ctx.live.emit("thread.viewing", { thread_id: threadId, viewing: true });
    this.ctx.threadOpened?.(threadId); // its alerts are read
    try {
      await this.loadMessages(threadId);
    } catch (err) {
      if (this.current !== threadId) return;
      if (err.status === 404) this.remove(threadId); // reassigned a moment ago
      else await this.act(() => Promise.reject(err));
      return;
    }
    if (this.current !== threadId) return;
    this.renderMessages(true);
    if (this.threads.get(threadId)?.unread) this.markRead();
  }

  close(reasonKey) {
    this.current = null;
    this.messages = new Map();
    $("#conv").hidden = true;
    const empty = $("#conv-empty");
    empty.hidden = false;
    empty.textContent = t(reasonKey || "thread.pick");
    empty.dataset.reason = reasonKey || "";
  }

  async loadMessages(threadId, before = null) {
    const page = await api.get(`/api/threads/${threadId}/messages`, { limit: 50, before });
    if (this.current !== threadId) return;
    for (const message of page.messages) if (!this.messages.has(message.id)) this.messages.set(message.id, message);
    this.nextBefore = page.next_before; // older than the oldest page read so far (a reload reads the newest)
  }

  addMessage(message) {
    if (message.thread_id !== this.current) return;
    const known = this.messages.get(message.id);
    this.messages.set(message.id, known ? { ...known, ...message } : message);
    this.renderMessages();
    if (message.direction === "in" && !known && document.visibilityState === "visible") this.markRead();
  }

  // The assignee looking at the thread has read what arrives in it (others' looks change nothing: the
  // hub keeps unread counts for the assignee).
  markRead() {
    const threadId = this.current;
    const thread = this.threads.get(threadId);
    if (!thread || thread.assignee_id !== this.ctx.me.id) return;
    if (this.reading) {
      this.readAgain = true; // arrived while the last read was on its way
      return;
    }
    this.reading = true;
    setTimeout(async () => {
      try {
        const after = await api.post(`/api/threads/${threadId}/read`);
        this.upsert(after);
      } catch {
        // reassigned meanwhile, or offline: the count stays and the next look clears it
      } finally {
        this.reading = false;
        if (this.readAgain && this.current === threadId) {
          this.readAgain = false;
          this.markRead();
        }
      }
    }, 300);
  }

  updateMessage(change) {
    const known = this.messages.get(change.message_id);
    if (!known) return;
    const { message_id: _, ...fields } = change;
    this.messages.set(known.id, { ...known, ...fields });
    this.renderMessages();
  }

  renderConversation() {
    if (!this.current) return;
    this.renderHeader();
    this.renderMessages(true);
  }

  renderHeader() {
    const thread = this.threads.get(this.current);
    if (!thread) return;
    const c = thread.customer;
    $("#conv-avatar").src = safeUrl(c.avatar || "data:,") ?? "data:,";
    $("#conv-avatar").hidden = !c.avatar;
    $("#conv-name").textContent = customerName(thread);
    replace($("#conv-contact"),
      c.phone ? h("span", { class: "phone" }, `${t("thread.phone")}: `, customerLink(this.ctx, c.phone, c.phone_e164 || c.phone),
        c.phone_source === "agent" ? h("span", { class: "muted" }, ` (${t("customer.typedByAgent")})`) : null) : null,
      c.address ? h("span", { class: "address" }, `${t("thread.address")}: ${c.address}`) : null,
      thread.follower === null || thread.follower === undefined ? null
        : h("span", { class: "muted" }, t(thread.follower ? "thread.follower" : "thread.notFollower")));
    this.renderPhoneForm(thread);
    replace($("#conv-window"), windowBadge(thread.reply_window, false));
    const blocked = thread.reply_window.state === "blocked";
    $("#composer-text").disabled = blocked;
    $("#send").disabled = blocked;
    $("#composer-text").placeholder = blocked ? t("window.blockedHint") : t("composer.placeholder");

    const assign = $("#conv-assignee");
    const canAssign = this.ctx.me.role === "owner" || (this.ctx.me.role === "manager" && thread.assignee_id === this.ctx.me.id);
    assign.hidden = !canAssign;
    $("#conv-assignee-name").textContent = canAssign ? "" : (thread.assignee_id ? this.ctx.memberName(thread.assignee_id) : t("thread.unassigned"));
    if (canAssign) {
      replace(assign,
        thread.assignee_id ? null : option("", t("thread.unassigned"), true),
        this.ctx.me.role === "owner" && thread.assignee_id ? option("", t("thread.queue")) : null,
        [...this.ctx.members.values()].map((m) => option(m.id, `${m.name} · ${t(`presence.${this.ctx.presence.get(m.id) || "offline"}`)}`,
          m.id === thread.assignee_id)));
    }
    replace($("#conv-labels"), thread.labels.map((id) => {
      const label = this.ctx.labels.get(id);
      return label ? labelChip(label, () => this.untag(id)) : null;
    }));
    const addable = [...this.ctx.labels.values()].filter((l) => !thread.labels.includes(l.id));
    replace($("#conv-add-label"), option("", t("thread.addLabel")), addable.map((l) => option(l.id, l.name)));
    $("#conv-add-label").hidden = !addable.length;
    const resolve = $("#conv-resolve");
    resolve.textContent = t(thread.status === "resolved" ? "thread.reopen" : "thread.resolve");
    resolve.dataset.action = thread.status === "resolved" ? "reopen" : "resolve";
    this.renderViewers();
  }

  // The customer's phone, typed by the agent (the product guide: "add the customer's phone yourself"): a form
  // under the customer's details, made once; its field keeps what is being typed while the thread changes.
  renderPhoneForm(thread) {
    let form = $("#conv-phone-form");
    if (!form) {
      const input = h("input", { id: "conv-phone-input", name: "phone", type: "tel", size: 16, maxlength: 32, required: true });
      const error = h("span", { id: "conv-phone-error", class: "error", role: "alert", hidden: true });
      form = h("form", { id: "conv-phone-form", class: "phone-form" }, input,
        h("button", { type: "submit", id: "conv-phone-save" }), error);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        this.setPhone(input.value.trim()).catch((err) => console.error(err));
      });
      $("#conv-contact").after(form);
    }
    const input = $("#conv-phone-input");
    if (form.dataset.threadId !== thread.id) {
      form.dataset.threadId = thread.id;
      input.value = "";
      $("#conv-phone-error").hidden = true;
    }
    input.placeholder = t(thread.customer.phone ? "customer.changePhone" : "customer.typePhone");
    $("#conv-phone-save").textContent = t("customer.savePhone");
  }

  async setPhone(phone) {
    const error = $("#conv-phone-error");
    const threadId = this.current;
    error.hidden = true;
    try {
      const thread = await api.put(`/api/threads/${threadId}/customer-phone`, { phone });
      this.upsert(thread);
      if (this.current === threadId) $("#conv-phone-input").value = "";
    } catch (err) {
      say(error, () => this.ctx.errorText(err));
      error.hidden = false;
    }
  }

  renderMessages(toBottom = false) {
    const scroller = $("#message-scroll");
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
    const ordered = [...this.messages.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
    replace($("#messages"), ordered.map((message) => this.messageItem(message)));
    $("#conv-older").hidden = !this.nextBefore;
    if (toBottom || atBottom) scroller.scrollTop = scroller.scrollHeight;
  }

  messageItem(message) {
    const status = message.direction === "out" ? message.status : null;
    return h("li", { class: `msg ${message.direction}${status === "failed" ? " failed" : ""}`, dataset: { messageId: message.id } },
      h("div", { class: "bubble" },
        message.kind === "request_user_info" ? h("em", {}, t("msg.requestInfo")) : null,
        message.text && message.kind !== "request_user_info" ? h("p", { class: "text" }, message.text) : null,
        message.attachments.map(attachmentView)),
      h("div", { class: "msg-meta muted" },
        message.sent_by_member_id ? `${this.ctx.memberName(message.sent_by_member_id)} · ` : null,
        message.sent_via === "zalo_oa" ? `${t("msg.byZaloTools")} · ` : null,
        h("time", { datetime: message.at }, fmt.when(message.at)),
        status ? h("span", { class: `mark ${status}`, title: t(`msg.${status}`), dataset: { status } },
          ` ${MARKS[status] || ""} ${t(`msg.${status}`)}`) : null),
      message.failure ? h("div", { class: "failure" },
        t("refused", { reason: lang() === "vi" ? message.failure.reason_vi : message.failure.reason })) : null);
  }

  // -- who else is here ---------------------------------------------------------------------------

  viewing({ thread_id: threadId, member_id: memberId, viewing }) {
    const set = this.viewers.get(threadId) || new Set();
    if (viewing) set.add(memberId);
    else set.delete(memberId);
    this.viewers.set(threadId, set);
    if (threadId === this.current) this.renderViewers();
  }

  renderViewers() {
    const others = [...(this.viewers.get(this.current) || [])].filter((id) => id !== this.ctx.me.id);
    $("#conv-viewers").textContent = others.length
      ? `${t("viewing", { names: others.map((id) => this.ctx.memberName(id)).join(", ") })}` : "";
  }

  typing({ thread_id: threadId, member_id: memberId }) {
    if (threadId !== this.current || memberId === this.ctx.me.id) return;
    clearTimeout(this.typingTimers.get(memberId));
    this.typingTimers.set(memberId, setTimeout(() => {
      this.typingTimers.delete(memberId);
      this.renderTyping();
    }, 4000));
    this.renderTyping();
  }

  clearTyping() {
    for (const timer of this.typingTimers.values()) clearTimeout(timer);
    this.typingTimers.clear();
    this.renderTyping();
  }

  renderTyping() {
    const names = [...this.typingTimers.keys()].map((id) => this.ctx.memberName(id));
    $("#typing").hidden = !names.length;
    $("#typing").textContent = names.length ? t("typing", { name: names.join(", ") }) : "";
  }

  // -- actions ------------------------------------------------------------------------------------

  async act(action) {
    $("#composer-error").hidden = true;
    try {
      return await action();
    } catch (err) {
      say($("#composer-error"), () => this.ctx.errorText(err));
      $("#composer-error").hidden = false;
      return null;
    }
  }

  async send(text) {
    const threadId = this.current;
    const message = await this.act(() => api.post(`/api/threads/${threadId}/messages`, { client_msg_id: newId(), text }));
    if (!message) return false;
    this.addMessage(message);
    if (message.status === "failed") {
      say($("#composer-error"), () => t("refused", {
        reason: lang() === "vi" ? message.failure.reason_vi : message.failure.reason }));
      $("#composer-error").hidden = false;
    }
    return true;
  }

  async sendFile(file) {
    const threadId = this.current;
    say($("#composer-error"), () => t("composer.uploading"));
    $("#composer-error").hidden = false;
    const attachment = await this.act(() => api.upload(`/api/threads/${threadId}/attachments`, file));
    if (!attachment) return;
    const message = await this.act(() => api.post(`/api/threads/${threadId}/messages`,
      { client_msg_id: newId(), attachment }));
    if (message) this.addMessage(message);
  }

  untag(labelId) {
    const threadId = this.current;
    return this.act(async () => this.upsert(await api.delete(`/api/threads/${threadId}/labels/${labelId}`)));
  }

  bindControls() {
    for (const format of ["xlsx", "csv"]) {
      $(`#threads-export-${format}`).addEventListener("click", () => {
        const { limit, ...filters } = this.query(); // the whole filter, not a page of it
        api.download("/api/threads/export", { ...filters, format, lang: lang() }).catch((err) => console.error(err));
      });
    }
    const reload = () => this.load().catch((err) => console.error(err));
    let searchTimer = null;
    $("#f-text").addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(reload, 250);
    });
    for (const id of ["#f-status", "#f-unread", "#f-label", "#f-assignee", "#f-oa"]) $(id).addEventListener("change", reload);

    $("#composer").addEventListener("submit", async (event) => {
      event.preventDefault();
      const box = $("#composer-text");
      const text = box.value.trim();
      if (!text || !this.current) return;
      box.disabled = true;
      const sent = await this.send(text);
      box.disabled = false;
      if (sent) box.value = "";
      box.focus();
    });
    $("#composer-text").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("#composer").requestSubmit();
      }
    });
    $("#composer-text").addEventListener("input", () => {
      if (!this.current || Date.now() - this.lastTypingSent < 2000) return;
      this.lastTypingSent = Date.now();
      this.ctx.live.emit("typing", { thread_id: this.current });
    });
    $("#composer-file").addEventListener("change", async (event) => {
      const file = event.target.files[0];
      event.target.value = "";
      if (file && this.current) await this.sendFile(file);
    });
    $("#request-info").addEventListener("click", () => {
      const threadId = this.current;
      return this.act(async () => this.addMessage(await api.post(`/api/threads/${threadId}/request-info`,
        { client_msg_id: newId() })));
    });
    $("#conv-assignee").addEventListener("change", (event) => {
      const threadId = this.current;
      const memberId = event.target.value || null;
      return this.act(async () => {
        const thread = await api.post(`/api/threads/${threadId}/assign`, { member_id: memberId });
        // A manager who hands a thread away loses it; the thread.removed event closes it.
        if (this.ctx.me.role === "owner" || thread.assignee_id === this.ctx.me.id) this.upsert(thread);
      });
    });
    $("#conv-add-label").addEventListener("change", (event) => {
      const threadId = this.current;
      const labelId = event.target.value;
      if (!labelId) return null;
      return this.act(async () => this.upsert(await api.post(`/api/threads/${threadId}/labels`, { label_id: labelId })));
    });
    $("#conv-resolve").addEventListener("click", (event) => {
      const threadId = this.current;
      const action = event.target.dataset.action;
      return this.act(async () => this.upsert(await api.post(`/api/threads/${threadId}/${action}`)));
    });
    $("#conv-older").addEventListener("click", async () => {
      const scroller = $("#message-scroll");
      const fromBottom = scroller.scrollHeight - scroller.scrollTop;
      await this.act(() => this.loadMessages(this.current, this.nextBefore));
      this.renderMessages();
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
    });
  }
}

// -- small views ------------------------------------------------------------------------------------

function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12)); // randomUUID needs https; this works on plain http
  return "web-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function customerName(thread) {
  return thread.customer.name || (thread.anonymous ? t("thread.anonymous") : thread.customer.phone || thread.user_id || "?");
}

function avatar(thread) {
  const name = customerName(thread);
  const letter = () => h("span", { class: "avatar letter", "aria-hidden": "true" }, name.trim().charAt(0).toUpperCase());
  return thread.customer.avatar
    ? h("img", { class: "avatar", src: thread.customer.avatar, alt: "", onerror: (e) => e.target.replaceWith(letter()) })
    : letter();
}

function windowBadge(window, compact) {
  const until = window.until ? t("window.until", { time: fmt.when(window.until) }) : "";
  return h("span", { class: `badge window ${window.state}`, dataset: { window: window.state },
                     title: window.state === "blocked" ? t("window.blockedHint") : until },
    t(`window.${window.state}`), !compact && until ? ` · ${until}` : null);
}

function labelChip(label, onRemove) {
  if (!label) return null;
  return h("span", { class: "label-chip", style: label.color ? `--label:${label.color}` : null },
    label.name, onRemove ? h("button", { type: "button", class: "chip-x", "aria-label": "×", onclick: onRemove }, "×") : null);
}

function kindLabel(kind) {
  return { image: t("msg.image"), file: t("msg.file"), sticker: t("msg.sticker"), location: t("msg.location") }[kind] || kind;
}

function attachmentView(attachment) {
  const p = attachment.payload || attachment; // outgoing ones are stored flat
  switch (attachment.type) {
    case "image":
    case "gif":
      return h("a", { href: p.url, target: "_blank", rel: "noopener", class: "att image" },
        h("img", { src: p.thumbnail || p.url, alt: attachment.type, loading: "lazy" }));
    case "sticker":
      return h("img", { class: "att sticker", src: p.url, alt: t("msg.sticker"), title: t("msg.sticker") });
    case "file":
      return h("a", { href: p.url, target: "_blank", rel: "noopener", class: "att file" },
        `${t("msg.file")}: ${p.name || ""}`, p.size ? h("span", { class: "muted" }, ` (${Math.ceil(Number(p.size) / 1024)} KB)`) : null);
    case "location": {
      const c = p.coordinates || {};
      return h("a", { class: "att location", target: "_blank", rel: "noopener",
                      href: `https://www.openstreetmap.org/?mlat=${c.latitude}&mlon=${c.longitude}#map=17/${c.latitude}/${c.longitude}` },
        `${t("msg.location")}: ${c.latitude}, ${c.longitude}`);
    }
    case "link":
      return h("a", { href: p.url, target: "_blank", rel: "noopener", class: "att link" },
        p.thumbnail ? h("img", { src: p.thumbnail, alt: "", loading: "lazy" }) : null,
        h("span", {}, p.description && !p.description.startsWith("{") ? p.description : p.url));
    case "audio":
      return h("audio", { class: "att audio", controls: true, src: p.url, preload: "none" });
    case "video":
      return h("video", { class: "att video", controls: true, src: p.url, poster: p.thumbnail, preload: "none" });
    default:
      return p.url ? h("a", { href: p.url, target: "_blank", rel: "noopener", class: "att" }, attachment.type) : null;
  }
}
