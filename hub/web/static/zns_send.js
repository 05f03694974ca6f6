// Sending one ZNS message: pick the OA, then one of its templates (GET /api/zns/templates, from Zalo), fill
// one field per template parameter (required ones marked, lengths enforced), and send (POST /api/zns/messages).
// The hub checks the parameters against the template again, and words quiet hours and role refusals.
// Used by the customer page (its number fixed) and the ZNS tab (a number typed, or picked from the contacts).
import { api } from "./api.js";
import { h, option, replace } from "./dom.js";
import { addStrings, lang, say, t } from "./i18n.js";

addStrings({
  vi: {
    "znsSend.title": "Gửi tin ZNS tới {phone}", "znsSend.titleAny": "Gửi tin ZNS",
    "znsSend.oa": "OA", "znsSend.phone": "Số điện thoại người nhận", "znsSend.template": "Mẫu",
    "znsSend.pickTemplate": "— Chọn mẫu —", "znsSend.noTemplates": "OA này chưa có mẫu ZNS nào.",
    "znsSend.required": "bắt buộc", "znsSend.maxLength": "tối đa {n} ký tự", "znsSend.otp": "Mẫu OTP (tính phí nếu tới trong 15 giây)",
    "znsSend.price": "Đơn giá: {price} đ", "znsSend.send": "Gửi", "znsSend.cancel": "Huỷ",
    "znsSend.noOa": "Công ty chưa liên kết OA nào.",
  },
  en: {
    "znsSend.title": "Send a ZNS message to {phone}", "znsSend.titleAny": "Send a ZNS message",
    "znsSend.oa": "OA", "znsSend.phone": "Recipient's phone", "znsSend.template": "Template",
    "znsSend.pickTemplate": "— Pick a template —", "znsSend.noTemplates": "This OA has no ZNS template yet.",
    "znsSend.required": "required", "znsSend.maxLength": "at most {n} characters", "znsSend.otp": "OTP template (charged if delivered within 15 s)",
    "znsSend.price": "Unit price: {price} VND", "znsSend.send": "Send", "znsSend.cancel": "Cancel",
    "znsSend.noOa": "The company has no linked OA yet.",
  },
});

export class ZnsSendDialog {
  // `onSent(message)`: the message as the hub answered it (zns.updated brings its later changes).
  constructor(ctx, { id, onSent, suggest }) {
    this.ctx = ctx;
    this.onSent = onSent;
    this.suggest = suggest; // (text) => Promise<[[value, label]]>: numbers to offer as the phone is typed
    this.template = null;
    this.phone = null;
    const label = (key, control) => h("label", {}, h("span", { "data-i18n": key }, t(key)), control);
    this.dialog = h("dialog", { id, class: "customer-dialog zns-send-dialog" },
      h("form", { method: "dialog" },
        h("h3", { class: "title" }),
        label("znsSend.oa", h("select", { name: "oa_id", required: true })),
        h("div", { class: "zns-phone" }, label("znsSend.phone",
          h("input", { name: "phone", type: "tel", list: `${id}-phones`, autocomplete: "off", size: 16 })),
          h("datalist", { id: `${id}-phones` })),
        label("znsSend.template", h("select", { name: "template_id", required: true })),
        h("p", { class: "zns-template-info muted" }),
        h("div", { class: "zns-params" }),
        h("p", { class: "error", role: "alert", hidden: true }),
        h("div", { class: "dialog-actions" },
          h("button", { type: "submit", class: "primary", value: "send", "data-i18n": "znsSend.send" }, t("znsSend.send")),
          h("button", { type: "button", class: "cancel", "data-i18n": "znsSend.cancel", onclick: () => this.dialog.close() }, t("znsSend.cancel")))));
    this.form = this.dialog.querySelector("form");
    this.form.elements.oa_id.addEventListener("change", () => this.loadTemplates().catch((err) => console.error(err)));
    this.form.elements.template_id.addEventListener("change", () => this.loadTemplate().catch((err) => console.error(err)));
    this.form.elements.phone.addEventListener("input", () => this.offerPhones().catch((err) => console.error(err)));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send().catch((err) => console.error(err));
    });
    document.body.append(this.dialog);
  }

  // `phone`: Zalo's form of a fixed number (shown as `shown`), or null for a number typed in the dialog.
  open({ phone = null, shown = null, oas }) {
    this.phone = phone;
    say(this.dialog.querySelector(".title"), () => (phone ? t("znsSend.title", { phone: shown || phone }) : t("znsSend.titleAny")));
    this.dialog.querySelector(".zns-phone").hidden = Boolean(phone);
    this.form.elements.phone.required = !phone;
    this.form.elements.phone.value = "";
    const chosen = this.form.elements.oa_id.value;
    replace(this.form.elements.oa_id, oas.map((oa) => option(oa.oa_id, oa.name || oa.oa_id, oa.oa_id === chosen)));
    this.template = null;
    replace(this.form.elements.template_id);
    replace(this.dialog.querySelector(".zns-params"));
    this.dialog.querySelector(".zns-template-info").textContent = "";
    this.showError(oas.length ? null : () => t("znsSend.noOa"));
    this.dialog.showModal();
    if (oas.length) this.loadTemplates().catch((err) => console.error(err));
  }

  async offerPhones() {
    const text = this.form.elements.phone.value.trim();
    if (!this.suggest || text.length < 2) return;
    const found = await this.suggest(text);
    if (this.form.elements.phone.value.trim() !== text) return;
    replace(this.dialog.querySelector("datalist"), found.map(([value, labelText]) => h("option", { value }, labelText)));
  }

  async loadTemplates() {
    const oaId = this.form.elements.oa_id.value;
    this.template = null;
    replace(this.dialog.querySelector(".zns-params"));
    try {
      const answer = await api.get("/api/zns/templates", { oa_id: oaId });
      if (this.form.elements.oa_id.value !== oaId) return;
      const usable = answer.templates.filter((tpl) => tpl.status === "ENABLE" || !tpl.status);
      const chosen = this.form.elements.template_id.value; // picked while the list was being read: stays picked
      replace(this.form.elements.template_id, option("", t(usable.length ? "znsSend.pickTemplate" : "znsSend.noTemplates")),
        usable.map((tpl) => option(tpl.template_id, `${tpl.name} (${tpl.template_id})`, tpl.template_id === chosen)));
      const failure = answer.zalo_error;
      this.showError(failure ? () => (lang() === "vi" ? failure.reason_vi : failure.reason) : null);
    } catch (err) {
      this.showError(() => this.ctx.errorText(err));
    }
  }

  async loadTemplate() {
    const oaId = this.form.elements.oa_id.value;
    const templateId = this.form.elements.template_id.value;
    const box = this.dialog.querySelector(".zns-params");
    const info = this.dialog.querySelector(".zns-template-info");
    this.template = null;
    replace(box);
    info.textContent = "";
    if (!templateId) return;
    try {
      const template = await api.get(`/api/zns/templates/${encodeURIComponent(templateId)}`, { oa_id: oaId });
      if (this.form.elements.template_id.value !== templateId) return;
      this.template = template;
      const price = template.price_sdt || template.price;
      info.textContent = [template.otp ? t("znsSend.otp") : null, price ? t("znsSend.price", { price }) : null].filter(Boolean).join(" · ");
      replace(box, template.listParams.map((param) => h("label", { class: "zns-param" },
        h("span", {}, param.name, param.require ? h("abbr", { class: "required", title: t("znsSend.required") }, " *") : null,
          param.maxLength ? h("small", { class: "muted" }, ` (${t("znsSend.maxLength", { n: param.maxLength })})`) : null),
        h("input", {
          name: `param.${param.name}`, dataset: { param: param.name }, required: param.require,
          maxlength: param.maxLength || null, minlength: param.require && param.minLength ? param.minLength : null,
        }))));
      this.showError(null);
    } catch (err) {
      this.showError(() => this.ctx.errorText(err));
    }
  }

  async send() {
    if (!this.template) return;
    const data = {};
    for (const input of this.dialog.querySelectorAll(".zns-params input")) {
      if (input.value.trim() !== "") data[input.dataset.param] = input.value.trim();
    }
    try {
      const message = await api.post("/api/zns/messages", {
        oa_id: this.form.elements.oa_id.value, phone: this.phone || this.form.elements.phone.value.trim(),
        template_id: this.template.template_id, template_data: data,
      });
      this.onSent(message);
      this.dialog.close();
    } catch (err) {
      this.showError(() => this.ctx.errorText(err));
    }
  }

  showError(text) {
    const error = this.dialog.querySelector(".error");
    if (text) say(error, text);
    error.hidden = !text;
  }
}
