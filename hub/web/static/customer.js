// The customer page (#customer/<phone>): one customer per phone number, joining the contact, the Zalo threads, the
// calls, ZNS messages and ZCC consent requests of that number as the hub lets this member see them
// (GET /api/customers/{phone}); kept live by the events that reach this console; ZCC and ZNS sent from here.
import { api } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, has, lang, say, t } from "./i18n.js";
import { ZnsSendDialog } from "./zns_send.js";

const REASONS = [101, 103, 105, 106, 107]; // hub/consents.py REASON_CODES: the guide's reasons
const CALL_TYPES = ["audio", "video", "audio_and_video"];

addStrings({
  vi: {
    "nav.customer": "Khách hàng",
    "customer.open": "Xem trang khách hàng",
    "customer.loading": "Đang tải…",
    "customer.phones": "Số điện thoại", "customer.email": "Email", "customer.address": "Địa chỉ", "customer.note": "Ghi chú",
    "customer.noContact": "Chưa có trong danh bạ.",
    "customer.sendZns": "Gửi tin ZNS", "customer.sendZcc": "Gửi yêu cầu gọi (ZCC)", "customer.openThread": "Mở hội thoại Zalo",
    "customer.threads": "Hội thoại Zalo", "customer.calls": "Cuộc gọi", "customer.zns": "Tin ZNS", "customer.consents": "Yêu cầu gọi ZCC",
    "customer.noThreads": "Không có hội thoại nào bạn được xem.", "customer.noCalls": "Không có cuộc gọi nào bạn được xem.",
    "customer.noZns": "Chưa gửi tin ZNS nào.", "customer.noConsents": "Chưa có yêu cầu ZCC nào.",
    "customer.more": "Còn nữa: xem toàn bộ trong danh sách của mục này.",
    "customer.oa": "OA", "customer.status": "Trạng thái", "customer.assignee": "Phụ trách", "customer.lastMessage": "Tin cuối",
    "customer.time": "Thời điểm", "customer.template": "Mẫu", "customer.tracking": "Mã theo dõi",
    "customer.reason": "Lý do", "customer.callType": "Kiểu gọi", "customer.resend": "Gửi lại được từ",
    "customer.typePhone": "Nhập số điện thoại của khách", "customer.changePhone": "Đổi số điện thoại của khách",
    "customer.savePhone": "Lưu số", "customer.typedByAgent": "nhân viên nhập",
    "customer.zns.processing": "Đang gửi", "customer.zns.success": "Đã nhận", "customer.zns.failure": "Lỗi",
    "customer.zccTitle": "Gửi yêu cầu gọi (ZCC) tới {phone}",
    "customer.send": "Gửi", "customer.cancel": "Huỷ", "customer.noOa": "Công ty chưa liên kết OA nào.",
    "error.invalid_phone": "Số điện thoại không hợp lệ: nhập dạng 0912345678, 84912345678 hoặc +84912345678.",
    "error.zns_quiet_hours": "Zalo không gửi tin ZNS từ 22:00 đến 06:00 (giờ Việt Nam): gửi lại sau 06:00.",
    "error.template_not_found": "Zalo không có mẫu này cho OA đã chọn: chọn mẫu khác.",
    "error.zalo_error": "Zalo không trả lời hoặc từ chối: thử lại.",
  },
  en: {
    "nav.customer": "Customer",
    "customer.open": "Open the customer page",
    "customer.loading": "Loading…",
    "customer.phones": "Phones", "customer.email": "Email", "customer.address": "Address", "customer.note": "Note",
    "customer.noContact": "Not in the contacts yet.",
    "customer.sendZns": "Send ZNS message", "customer.sendZcc": "Send call request (ZCC)", "customer.openThread": "Open Zalo thread",
    "customer.threads": "Zalo threads", "customer.calls": "Calls", "customer.zns": "ZNS messages", "customer.consents": "ZCC call requests",
    "customer.noThreads": "No thread you may see.", "customer.noCalls": "No call you may see.",
    "customer.noZns": "No ZNS message sent yet.", "customer.noConsents": "No ZCC request yet.",
    "customer.more": "There are more: see them all in this section's own list.",
    "customer.oa": "OA", "customer.status": "Status", "customer.assignee": "Assignee", "customer.lastMessage": "Last message",
    "customer.time": "Time", "customer.template": "Template", "customer.tracking": "Tracking id",
    "customer.reason": "Reason", "customer.callType": "Call type", "customer.resend": "Can resend from",
    "customer.typePhone": "Type the customer's phone", "customer.changePhone": "Change the customer's phone",
    "customer.savePhone": "Save phone", "customer.typedByAgent": "typed by an agent",
    "customer.zns.processing": "Sending", "customer.zns.success": "Delivered", "customer.zns.failure": "Failed",
    "customer.zccTitle": "Send a call request (ZCC) to {phone}",
    "customer.send": "Send", "customer.cancel": "Cancel", "customer.noOa": "The company has no linked OA yet.",
    "error.invalid_phone": "Not a phone number: type it as 0912345678, 84912345678 or +84912345678.",
    "error.zns_quiet_hours": "Zalo sends no ZNS message between 22:00 and 06:00 (Vietnam time): send it after 06:00.",
    "error.template_not_found": "Zalo has no such template for this OA: pick another one.",
    "error.zalo_error": "Zalo did not answer or refused: try again.",
  },
});

// A number as Zalo writes it (84…): how this page matches what events carry against its customer.
export function zaloDigits(number) {
  let digits = String(number || "").replace(/\D/g, "");
  if (digits.startsWith("0")) digits = "84" + digits.slice(1);
  return digits;
}

function newestFirst(key) {
  return (a, b) => (String(a[key] || "") < String(b[key] || "") ? 1 : String(a[key] || "") > String(b[key] || "") ? -1 : 0);
}

export class CustomerPage {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.page = null; // the hub's answer, kept current by events
    this.asked = null; // the number being shown, as it was asked for
    this.zcc = this.zccDialog();
    this.zns = new ZnsSendDialog(ctx, { id: "customer-zns-dialog", onSent: (message) => this.apply("zns.updated", message) });
  }

  // -- loading -------------------------------------------------------------------------------------

  async open(phone) {
    this.asked = phone;
    if (!this.page || zaloDigits(phone) !== this.page.zalo_phone) {
      this.page = null;
      replace(this.root, h("p", { class: "muted" }, t("customer.loading")));
    }
    try {
      const page = await api.get(`/api/customers/${encodeURIComponent(phone)}`);
      if (this.asked !== phone) return; // another customer was opened meanwhile
      this.page = page;
      history.replaceState(null, "", `#customer/${encodeURIComponent(page.phone)}`);
    } catch (err) {
      replace(this.root, h("p", { class: "error", role: "alert" }, this.ctx.errorText(err)));
      return;
    }
    this.render();
  }

  // After a reconnect that lost events (sync.reset): read again.
  async reload() {
    if (this.page) await this.open(this.page.phone);
  }

  // -- live ------------------------------------------------------------------------------------------

  apply(type, data) {
    const page = this.page;
    if (!page) return;
    const ours = (number) => Boolean(number) && zaloDigits(number) === page.zalo_phone;
    let changed = false;
    if (type === "call.updated" && page.calls && (ours(data.from_number) || ours(data.to_number))) {
      const known = page.calls.items.find((c) => c.id === data.id);
      page.calls.items = [...page.calls.items.filter((c) => c.id !== data.id), { thread_id: known?.thread_id ?? null, ...data }]
        .sort(newestFirst("started_at"));
      changed = true;
    } else if (type === "consent.updated" && page.consents && ours(data.phone)) {
      page.consents.items = [...page.consents.items.filter((c) => c.id !== data.id), data].sort(newestFirst("created_at"));
      changed = true;
    } else if (type === "zns.updated" && page.zns && ours(data.phone)) {
      page.zns.items = [...page.zns.items.filter((m) => m.id !== data.id), data].sort(newestFirst("sent_at"));
      changed = true;
    } else if (["thread.created", "thread.updated", "thread.assigned"].includes(type) && page.threads) {
      const listed = page.threads.items.some((th) => th.id === data.id);
      if (data.customer?.phone_e164 === page.phone) {
        const known = page.threads.items.find((th) => th.id === data.id);
        if (!known || (known.version ?? 0) <= (data.version ?? 0)) {
          page.threads.items = [...page.threads.items.filter((th) => th.id !== data.id), data];
          page.threads.items.sort((a, b) => newestFirst("at")(a.last_message || {}, b.last_message || {}));
          changed = true;
        }
      } else if (listed) { // the thread's phone changed to another number
        page.threads.items = page.threads.items.filter((th) => th.id !== data.id);
        changed = true;
      }
    } else if (type === "thread.removed" && page.threads?.items.some((th) => th.id === data.thread_id)) {
      page.threads.items = page.threads.items.filter((th) => th.id !== data.thread_id);
      changed = true;
    }
    if (changed) this.render();
  }

  // -- drawing ---------------------------------------------------------------------------------------

  render() {
    const page = this.page;
    if (!page) return;
    const contact = page.contact;
    const phones = contact?.phones?.length ? contact.phones : [page.phone];
    const threads = page.threads?.items || [];
    replace(this.root,
      h("header", { class: "customer-head", dataset: { phone: page.phone } },
        h("h2", { id: "customer-name" }, page.name || page.phone),
        h("dl", { class: "customer-facts" },
          h("dt", {}, t("customer.phones")), h("dd", { id: "customer-phones" }, phones.join(", ")),
          contact?.email ? [h("dt", {}, t("customer.email")), h("dd", {}, contact.email)] : null,
          contact?.address ? [h("dt", {}, t("customer.address")), h("dd", {}, contact.address)] : null,
          contact?.note ? [h("dt", {}, t("customer.note")), h("dd", {}, contact.note)] : null),
        contact ? null : h("p", { class: "muted" }, t("customer.noContact")),
        h("div", { class: "customer-actions" },
          page.may_send_zns ? h("button", { type: "button", id: "customer-send-zns", onclick: () => this.openZns() }, t("customer.sendZns")) : null,
          h("button", { type: "button", id: "customer-send-zcc", onclick: () => this.openZcc() }, t("customer.sendZcc")),
          h("button", {
            type: "button", id: "customer-open-thread", disabled: !threads.length,
            onclick: () => this.ctx.openThread(threads[0].id).catch((err) => console.error(err)),
          }, t("customer.openThread")))),
      this.section("threads", page.threads, ["customer.oa", "customer.status", "customer.assignee", "customer.lastMessage", "customer.time"],
        (th) => h("tr", {
          class: "clickable", dataset: { threadId: th.id },
          onclick: () => this.ctx.openThread(th.id).catch((err) => console.error(err)),
        },
        h("td", {}, this.oaName(th.oa_id)),
        h("td", {}, t(th.status === "resolved" ? "filter.status.resolved" : "filter.status.open")),
        h("td", {}, th.assignee_id ? this.ctx.memberName(th.assignee_id) : t("thread.unassigned")),
        h("td", {}, th.last_message?.text || ""),
        h("td", {}, th.last_message ? fmt.when(th.last_message.at) : ""))),
      this.section("calls", page.calls, ["customer.time", "calls.direction", "calls.from", "calls.to", "calls.outcome", "calls.duration"],
        (call) => h("tr", { dataset: { callId: call.id } },
          h("td", {}, fmt.when(call.started_at)),
          h("td", {}, t(`dir.${call.direction || "inbound"}`)),
          h("td", {}, call.from_number || "–"),
          h("td", {}, call.to_number || "–"),
          h("td", {}, call.outcome ? h("span", { class: `badge outcome ${call.outcome}` }, t(`outcome.${call.outcome}`)) : t(`state.${call.state}`)),
          h("td", {}, fmt.duration(call.duration_s)))),
      page.zns ? this.section("zns", page.zns, ["customer.time", "customer.oa", "customer.template", "customer.status", "customer.tracking"],
        (m) => h("tr", { dataset: { znsId: m.id, status: m.status || "" } },
          h("td", {}, fmt.when(m.sent_at)),
          h("td", {}, this.oaName(m.oa_id)),
          h("td", {}, m.template_id),
          h("td", {}, has(`customer.zns.${m.status}`) ? t(`customer.zns.${m.status}`) : m.status || "", m.failure ? h("div", { class: "muted" }, lang() === "vi" ? m.failure.reason_vi : m.failure.reason) : null),
          h("td", {}, m.tracking_id || ""))) : null,
      this.section("consents", page.consents, ["customer.time", "customer.oa", "customer.reason", "customer.callType", "customer.status", "customer.resend"],
        (c) => h("tr", { dataset: { consentId: c.id, status: c.status } },
          h("td", {}, fmt.when(c.created_at)),
          h("td", {}, this.oaName(c.oa_id)),
          h("td", {}, t(`reason.${c.reason_code}`)),
          h("td", {}, t(`callType.${c.call_type}`)),
          h("td", {}, h("span", { class: `badge consent ${c.status}` }, t(`consent.${c.status}`)),
            c.failure ? h("div", { class: "muted" }, lang() === "vi" ? c.failure.reason_vi : c.failure.reason) : null),
          h("td", {}, c.can_resend_at ? fmt.when(c.can_resend_at) : "–"))));
  }

  // One section: absent when the hub left it out (this member may not see it).
  section(name, data, columns, row) {
    if (!data) return null;
    const none = { threads: "customer.noThreads", calls: "customer.noCalls", zns: "customer.noZns", consents: "customer.noConsents" }[name];
    return h("section", { class: "customer-section", id: `customer-${name}` },
      h("h3", {}, t(`customer.${name}`)),
      h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, columns.map((key) => h("th", {}, t(key))))),
        h("tbody", {}, data.items.length ? data.items.map(row) : h("tr", {}, h("td", { colspan: columns.length, class: "muted" }, t(none))))),
      data.more ? h("p", { class: "muted" }, t("customer.more")) : null);
  }

  oaName(oaId) {
    return this.page?.oas.find((oa) => oa.oa_id === oaId)?.name || oaId;
  }

  oaOptions(select) {
    replace(select, this.page.oas.map((oa) => option(oa.oa_id, oa.name)));
  }

  // -- ZCC: ask the customer's consent to be called ------------------------------------------------------

  zccDialog() {
    const dialog = h("dialog", { id: "customer-zcc-dialog", class: "customer-dialog" },
      h("form", { method: "dialog" },
        h("h3", { class: "title" }),
        h("label", {}, h("span", { "data-i18n": "customer.oa" }, t("customer.oa")), h("select", { name: "oa_id", required: true })),
        h("label", {}, h("span", { "data-i18n": "customer.reason" }, t("customer.reason")), h("select", { name: "reason_code" })),
        h("label", {}, h("span", { "data-i18n": "customer.callType" }, t("customer.callType")), h("select", { name: "call_type" })),
        h("p", { class: "error", role: "alert", hidden: true }),
        h("div", { class: "dialog-actions" },
          h("button", { type: "submit", class: "primary", value: "send", "data-i18n": "customer.send" }, t("customer.send")),
          h("button", { type: "button", class: "cancel", "data-i18n": "customer.cancel", onclick: () => dialog.close() }, t("customer.cancel")))));
    dialog.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.sendZcc(new FormData(event.target)).catch((err) => console.error(err));
    });
    document.body.append(dialog);
    return dialog;
  }

  openZcc() {
    const form = this.zcc.querySelector("form");
    say(this.zcc.querySelector(".title"), () => t("customer.zccTitle", { phone: this.page.phone }));
    this.oaOptions(form.elements.oa_id);
    replace(form.elements.reason_code, REASONS.map((code) => option(String(code), t(`reason.${code}`))));
    replace(form.elements.call_type, CALL_TYPES.map((type) => option(type, t(`callType.${type}`))));
    this.showError(this.zcc, this.page.oas.length ? null : () => t("customer.noOa"));
    this.zcc.showModal();
  }

  async sendZcc(form) {
    try {
      const consent = await api.post("/api/consents", {
        oa_id: form.get("oa_id"), phone: this.page.zalo_phone, reason_code: Number(form.get("reason_code")),
        call_type: form.get("call_type"),
      });
      this.apply("consent.updated", consent);
      this.zcc.close();
    } catch (err) {
      this.showError(this.zcc, () => this.ctx.errorText(err));
    }
  }

  // -- ZNS: a template message, its parameters from the template (zns_send.js) ---------------------

  openZns() {
    this.zns.open({ phone: this.page.zalo_phone, shown: this.page.phone, oas: this.page.oas });
  }

  showError(dialog, text) {
    const error = dialog.querySelector(".error");
    if (text) say(error, text);
    error.hidden = !text;
  }
}
