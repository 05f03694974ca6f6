// Administration: the company's labels, and the company itself (information and the settings that drive
// behaviour, each with its meaning in words).
import { api } from "./api.js";
import { confirmDialog, field, formError, onSubmit, openDialog, requireFilled, showError } from "./admin_form.js";
import { h, replace } from "./dom.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    "labels.name": "Tên nhãn", "labels.color": "Màu", "labels.add": "Thêm nhãn", "labels.rename": "Đổi tên",
    "labels.delete": "Xoá", "labels.none": "Chưa có nhãn nào.",
    "labels.deleteConfirm": "Xoá nhãn {name}? Nhãn sẽ được gỡ khỏi mọi hội thoại.",
    "company.info": "Thông tin công ty", "company.code": "Mã công ty", "company.name": "Tên công ty",
    "company.timezone": "Múi giờ", "company.contact": "Thông tin liên hệ", "company.business": "Thông tin doanh nghiệp",
    "company.address": "Địa chỉ", "company.phone": "Số điện thoại", "company.email": "Email", "company.website": "Trang web",
    "company.legalName": "Tên pháp lý", "company.taxCode": "Mã số thuế", "company.businessAddress": "Địa chỉ đăng ký kinh doanh",
    "company.settings": "Thiết lập vận hành",
    "company.shortAbandon": "Cuộc gọi bỏ sớm (giây)",
    "company.shortAbandonHint": "Cuộc gọi đến không ai nghe và ngắn hơn số giây này được tính là \"bỏ sớm\": có thống kê nhưng không báo cuộc gọi nhỡ.",
    "company.serviceLevel": "Mức phục vụ (giây)",
    "company.serviceLevelHint": "Cuộc gọi được trả lời trong số giây này được tính là đạt mức phục vụ (trên màn hình treo tường và thống kê).",
    "company.maxThreads": "Số hội thoại mở tối đa mỗi nhân viên",
    "company.maxThreadsHint": "Khi tự động phân công, một nhân viên đang giữ chừng này hội thoại mở sẽ không được giao thêm.",
    "company.znsPrices": "Đơn giá ZNS (VND)",
    "company.znsPricesHint": "Giá mỗi tin ZNS bị tính phí, theo mẫu (template id): dùng để ước tính chi phí đã gửi.",
    "company.template": "Mã mẫu (template id)", "company.price": "Đơn giá", "company.addPrice": "+ Thêm mẫu",
    "company.ownerOnly": "Chỉ chủ sở hữu được thay đổi thông tin và thiết lập của công ty.",
  },
  en: {
    "labels.name": "Label name", "labels.color": "Colour", "labels.add": "Add label", "labels.rename": "Rename",
    "labels.delete": "Delete", "labels.none": "No label yet.",
    "labels.deleteConfirm": "Delete the label {name}? It leaves every conversation.",
    "company.info": "Company information", "company.code": "Company code", "company.name": "Company name",
    "company.timezone": "Time zone", "company.contact": "Contact information", "company.business": "Business information",
    "company.address": "Address", "company.phone": "Phone", "company.email": "Email", "company.website": "Website",
    "company.legalName": "Legal name", "company.taxCode": "Tax code", "company.businessAddress": "Registered business address",
    "company.settings": "Settings",
    "company.shortAbandon": "Short abandon (seconds)",
    "company.shortAbandonHint": "An unanswered inbound call shorter than this counts as \"short abandoned\": counted, but no missed-call alert.",
    "company.serviceLevel": "Service level (seconds)",
    "company.serviceLevelHint": "A call answered within this many seconds counts towards the service level (wallboard and statistics).",
    "company.maxThreads": "Max open conversations per agent",
    "company.maxThreadsHint": "Automatic assignment gives no more conversations to an agent who holds this many open ones.",
    "company.znsPrices": "ZNS unit prices (VND)",
    "company.znsPricesHint": "The price of each charged ZNS message, by template id: used to estimate what was spent.",
    "company.template": "Template id", "company.price": "Unit price", "company.addPrice": "+ Add template",
    "company.ownerOnly": "Only the owner may change the company's information and settings.",
  },
});

export class Labels {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
  }

  async load() {
    this.render(); // the console holds the labels, kept live by label.* events
  }

  apply(type) {
    if (type.startsWith("label.")) this.renderRows();
  }

  render() {
    this.tbody = h("tbody");
    const form = h("form", { id: "label-form", class: "admin-form inline-form" },
      field("labels.name", h("input", { name: "name", maxlength: 60 })),
      field("labels.color", h("input", { name: "color", type: "color", value: "#0068ff" })),
      formError(),
      h("button", { type: "submit", class: "primary" }, t("labels.add")));
    onSubmit(form, async (data) => {
      if (!requireFilled(form, ["name"])) return;
      const label = await api.post("/api/labels", { name: data.get("name").trim(), color: data.get("color") });
      this.ctx.labels.set(label.id, label);
      form.elements.name.value = "";
      this.renderRows();
    });
    this.error = h("p", { class: "error", id: "labels-error", role: "alert", hidden: true });
    replace(this.root, form, this.error, h("table", { class: "grid", id: "labels-table" },
      h("thead", {}, h("tr", {}, ["labels.name", "labels.color", "common.actions"].map((key) => h("th", {}, t(key))))), this.tbody));
    this.renderRows();
  }

  renderRows() {
    if (!this.tbody) return;
    const list = [...this.ctx.labels.values()].sort((a, b) => a.name.localeCompare(b.name));
    replace(this.tbody, list.length ? list.map((label) => h("tr", { dataset: { labelId: label.id } },
      h("td", {}, h("span", { class: "label-chip", style: label.color ? `--label: ${label.color}` : null }, label.name)),
      h("td", { class: "muted" }, label.color ?? "–"),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "link rename", onclick: () => this.renameDialog(label) }, t("labels.rename")),
        h("button", { type: "button", class: "link danger delete", onclick: () => this.remove(label) }, t("labels.delete")))))
      : h("tr", {}, h("td", { colspan: 3, class: "muted" }, t("labels.none"))));
  }

  renameDialog(label) {
    const form = h("form", { id: "label-edit", class: "admin-form" },
      field("labels.name", h("input", { name: "name", value: label.name, maxlength: 60 })),
      field("labels.color", h("input", { name: "color", type: "color", value: label.color ?? "#8895a7" })),
      formError(),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
        h("button", { type: "submit", class: "primary" }, t("form.save"))));
    const dialog = openDialog(form);
    onSubmit(form, async (data) => {
      if (!requireFilled(form, ["name"])) return;
      const updated = await api.patch(`/api/labels/${label.id}`, { name: data.get("name").trim(), color: data.get("color") });
      this.ctx.labels.set(updated.id, updated);
      this.ctx.labelsChanged?.();
      this.renderRows();
      dialog.close();
    });
  }

  async remove(label) {
    if (!(await confirmDialog(t("labels.deleteConfirm", { name: label.name }), t("labels.delete")))) return;
    this.error.hidden = true;
    try {
      await api.delete(`/api/labels/${label.id}`);
    } catch (err) {
      this.error.textContent = this.ctx.errorText(err);
      this.error.hidden = false;
      return;
    }
    this.ctx.labels.delete(label.id);
    this.ctx.labelsChanged?.();
    this.renderRows();
  }
}

const SETTINGS = [
  ["short_abandon_s", "company.shortAbandon", "company.shortAbandonHint", { min: 0, max: 600, step: "any" }],
  ["service_level_s", "company.serviceLevel", "company.serviceLevelHint", { min: 1, max: 3600, step: "any" }],
  ["max_open_threads", "company.maxThreads", "company.maxThreadsHint", { min: 1, max: 1000, step: 1 }],
];

export class Company {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
  }

  async load() {
    this.render(); // the console holds the company, kept live by company.updated
  }

  apply(type) {
    if (type === "company.updated") this.render();
  }

  render() {
    const c = this.ctx.company ?? {};
    const owner = this.ctx.me.role === "owner";
    const text = (name, value, attrs = {}) => h("input", { name, value: value ?? "", disabled: !owner, ...attrs });
    this.prices = h("div", { class: "prices", id: "zns-prices" });
    const form = h("form", { id: "company-form", class: "admin-form company-form" },
      owner ? null : h("p", { class: "note" }, t("company.ownerOnly")),
      h("fieldset", {}, h("legend", {}, t("company.info")),
        h("p", {}, t("company.code"), ": ", h("code", { id: "company-code" }, c.code ?? "")),
        field("company.name", text("name", c.name, { maxlength: 200 })),
        field("company.timezone", text("timezone", c.timezone, { maxlength: 64, list: "timezones" })),
        h("datalist", { id: "timezones" }, (Intl.supportedValuesOf?.("timeZone") ?? []).map((zone) => h("option", { value: zone })))),
      h("fieldset", {}, h("legend", {}, t("company.contact")),
        field("company.address", text("contact.address", c.contact?.address)),
        field("company.phone", text("contact.phone", c.contact?.phone, { type: "tel" })),
        field("company.email", text("contact.email", c.contact?.email, { type: "email" })),
        field("company.website", text("contact.website", c.contact?.website, { type: "url" }))),
      h("fieldset", {}, h("legend", {}, t("company.business")),
        field("company.legalName", text("business.legal_name", c.business?.legal_name)),
        field("company.taxCode", text("business.tax_code", c.business?.tax_code)),
        field("company.businessAddress", text("business.address", c.business?.address))),
      h("fieldset", {}, h("legend", {}, t("company.settings")),
        SETTINGS.map(([name, key, hint, limits]) =>
          field(key, text(name, c.settings?.[name], { type: "number", ...limits }), hint)),
        h("div", { class: "field" }, h("span", { class: "field-name" }, t("company.znsPrices")),
          h("small", { class: "muted" }, t("company.znsPricesHint")), this.prices,
          owner ? h("button", { type: "button", class: "link", id: "add-price", onclick: () => this.priceRow("", "") }, t("company.addPrice")) : null,
          h("small", { class: "error field-error", dataset: { errorFor: "zns_prices" }, hidden: true }))),
      formError(),
      owner ? h("div", { class: "dialog-actions" }, h("button", { type: "submit", class: "primary", id: "company-save" }, t("form.save")),
        h("span", { class: "muted", id: "company-saved", hidden: !this.justSaved }, t("form.saved"))) : null);
    for (const [template, price] of Object.entries(c.settings?.zns_prices ?? {})) this.priceRow(template, price);
    replace(this.root, form);
    form.addEventListener("input", () => {
      this.justSaved = false;
      form.querySelector("#company-saved")?.setAttribute("hidden", "");
    });
    onSubmit(form, (data) => this.save(form, data));
  }

  priceRow(template, price) {
    const disabled = this.ctx.me.role !== "owner";
    const row = h("div", { class: "price-row" },
      h("input", { class: "template", value: template, placeholder: t("company.template"), disabled, "aria-label": t("company.template") }),
      h("input", { class: "price", type: "number", min: 0, step: "any", value: price, disabled, "aria-label": t("company.price") }),
      disabled ? null : h("button", { type: "button", class: "link", onclick: () => row.remove() }, "×"));
    this.prices.append(row);
  }

  async save(form, data) {
    if (!requireFilled(form, ["name", "timezone", ...SETTINGS.map(([name]) => name)])) return;
    const zns = {};
    for (const row of this.prices.querySelectorAll(".price-row")) {
      const template = row.querySelector(".template").value.trim();
      const price = row.querySelector(".price").value;
      if (!template && price === "") continue;
      if (!template || price === "" || Number(price) < 0) {
        showError(form, "zns_prices", t("form.invalid"));
        return;
      }
      zns[template] = Number(price);
    }
    const value = (name) => data.get(name).trim();
    const company = await api.patch("/api/company", {
      name: value("name"),
      timezone: value("timezone"),
      contact: { address: value("contact.address"), phone: value("contact.phone"), email: value("contact.email"), website: value("contact.website") },
      business: { legal_name: value("business.legal_name"), tax_code: value("business.tax_code"), address: value("business.address") },
      settings: {
        short_abandon_s: Number(data.get("short_abandon_s")),
        service_level_s: Number(data.get("service_level_s")),
        max_open_threads: Number(data.get("max_open_threads")),
        zns_prices: zns,
      },
    });
    this.justSaved = true;
    this.ctx.companyChanged?.(company);
    this.render();
  }
}
