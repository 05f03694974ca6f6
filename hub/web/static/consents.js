// ZCC call consent in the console: requests and their live status, and a form to ask again.
import { api } from "./api.js";
import { $, h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, lang, say, t } from "./i18n.js";
import { JobPanel, showJob } from "./jobs.js";

addStrings({
  vi: {
    "bulk.title": "Gửi yêu cầu hàng loạt (Import)",
    "bulk.hint": "Tệp .xlsx hoặc .csv, dòng đầu là tên cột: Số điện thoại, Lý do (mã như 101 hoặc tên lý do). Kiểm tra từng dòng, sửa hoặc xóa, chọn OA rồi gửi.",
    "bulk.file": "Tệp danh sách", "bulk.defaultReason": "Lý do cho dòng không ghi lý do",
    "bulk.noDefault": "Không có lý do mặc định", "bulk.upload": "Tải lên và kiểm tra", "bulk.oa": "Gửi qua OA",
    "bulk.sent": "Đã gửi", "bulk.refused": "Chưa được gửi lại (từ {until})", "bulk.unknown": "Không rõ (đang gửi khi hệ thống dừng)",
    "bulk.failed": "Thất bại", "bulk.pickOa": "Hãy chọn OA để gửi.",
  },
  en: {
    "bulk.title": "Send requests in bulk (Import)",
    "bulk.hint": "An .xlsx or .csv file whose first row names the columns: Phone, Reason (a code such as 101 or the reason's name). Check each line, fix or delete it, pick the OA, then send.",
    "bulk.file": "List file", "bulk.defaultReason": "Reason for lines that name none",
    "bulk.noDefault": "No default reason", "bulk.upload": "Upload and check", "bulk.oa": "Send through OA",
    "bulk.sent": "Sent", "bulk.refused": "Cannot resend yet (from {until})", "bulk.unknown": "Unknown (sending when the hub stopped)",
    "bulk.failed": "Failed", "bulk.pickOa": "Pick the OA to send through.",
  },
});

export class Consents {
  constructor(ctx) {
    this.ctx = ctx;
    this.items = new Map();
    $("#consent-status").addEventListener("change", () => this.load().catch((err) => console.error(err)));
    $("#consent-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.request(new FormData(event.target)).catch((err) => console.error(err));
    });
    for (const name of ["reason_code", "call_type"]) { // the bulk form offers what a single request offers
      $(`#consent-bulk-form select[name=${name}]`).append(...[...$(`#consent-form select[name=${name}]`).options].map((o) => o.cloneNode(true)));
    }
    $("#consent-bulk-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.upload(new FormData(event.target)).catch((err) => console.error(err));
    });
    for (const format of ["xlsx", "csv"]) { // the list's filter (its status), every request of it
      $(`#consents-export-${format}`).addEventListener("click", () =>
        api.download("/api/consents/export", { status: $("#consent-status").value, format, lang: lang() })
          .catch((err) => console.error(err)));
    }
  }

  async load() {
    const { consents } = await api.get("/api/consents", { status: $("#consent-status").value, limit: 200 });
    this.items = new Map(consents.map((c) => [c.id, c]));
    this.render();
  }

  renderOaChoice(oaIds) {
    const select = $("#consent-form select[name=oa_id]");
    const chosen = select.value;
    replace(select, oaIds.map(([id, name]) => option(id, name, id === chosen)));
  }

  updated(consent) {
    this.items.set(consent.id, consent);
    this.render();
  }

  async request(form) {
    const error = $("#consent-error");
    error.hidden = true;
    try {
      this.updated(await api.post("/api/consents", {
        oa_id: form.get("oa_id"), phone: form.get("phone").trim(), reason_code: Number(form.get("reason_code")),
        call_type: form.get("call_type"),
      }));
    } catch (err) {
      say(error, () => this.ctx.errorText(err));
      error.hidden = false;
    }
  }

  // A list of call requests: uploaded and checked by the hub, shown line by line until confirmed (jobs.js).
  async upload(form) {
    const error = $("#consent-bulk-error");
    error.hidden = true;
    try {
      const { job } = await api.post("/api/consents/imports", undefined, { form });
      this.bulk = new JobPanel($("#consent-bulk-job"), job, this.bulkSpec());
      showJob(this.bulk);
    } catch (err) {
      say(error, () => this.ctx.errorText(err));
      error.hidden = false;
    }
  }

  bulkSpec() {
    const oaChoice = () => $("#consent-form select[name=oa_id]");
    return {
      columns: [
        { label: () => t("consents.phone"), cell: (data) => data.phone, edit: "phone" },
        { label: () => t("consents.reason"), cell: (data) => (data.reason_code ? t(`reason.${data.reason_code}`) : data.reason), edit: "reason" },
      ],
      outcome: (outcome) => {
        if (outcome.status === "sent") return t("bulk.sent");
        if (outcome.status === "refused") return t("bulk.refused", { until: fmt.when(outcome.can_resend_at) });
        if (outcome.status === "unknown") return t("bulk.unknown");
        const failure = outcome.failure;
        return failure ? (lang() === "vi" ? failure.reason_vi : failure.reason) : outcome.reason || t("bulk.failed");
      },
      confirmControls: () => h("label", {}, t("bulk.oa"), " ",
        h("select", { name: "bulk_oa", class: "bulk-oa" }, [...oaChoice().options].map((o) => h("option", { value: o.value, selected: o.value === oaChoice().value }, o.textContent)))),
      confirmParams: () => {
        const oa = $("#consent-bulk-job select[name=bulk_oa]")?.value;
        if (!oa) throw new Error(t("bulk.pickOa"));
        return { oa_id: oa };
      },
      errorText: (err) => this.ctx.errorText(err),
    };
  }

  render() {
    const status = $("#consent-status").value;
    const rows = [...this.items.values()].filter((c) => !status || c.status === status)
      .sort((a, b) => (a.created_at < b.created_at ? 1 : -1));
    replace($("#consent-list tbody"), rows.length ? rows.map((c) => h("tr", { dataset: { consentId: c.id, status: c.status } },
      h("td", {}, fmt.when(c.created_at)),
      h("td", {}, c.phone),
      h("td", {}, c.oa_id),
      h("td", {}, t(`reason.${c.reason_code}`)),
      h("td", {}, t(`callType.${c.call_type}`)),
      h("td", {}, h("span", { class: `badge consent ${c.status}` }, t(`consent.${c.status}`)),
        c.failure ? h("div", { class: "muted" }, lang() === "vi" ? c.failure.reason_vi : c.failure.reason) : null),
      h("td", {}, c.expires_at ? fmt.when(c.expires_at) : "–"),
      h("td", {}, c.can_resend_at ? fmt.when(c.can_resend_at) : "–")))
      : h("tr", {}, h("td", { colspan: 8, class: "muted" }, t("consents.none"))));
  }
}
