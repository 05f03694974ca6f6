// The Contacts tab ("Danh bạ"): general contacts (list, search by name or any phone form, add, edit, delete for
// owners and managers, export, import from .xlsx/.csv with a preview of each row's problem, a live progress
// bar and a summary) and the internal directory (members with extension and department).
//
// Live: contact.created/updated/removed move the list; contacts.imported (an import's contacts come without
// an event each) reads the list again; job.updated moves the import's progress bar. A contact opens the
// customer page (#customer/<+84…>, built by customer.js).
import { api } from "./api.js";
import { $, h, replace } from "./dom.js";
import * as fmt from "./format.js";
import { confirmDialog, field, formError, onSubmit, openDialog, requireFilled } from "./admin_form.js";
import { addStrings, locale, say, t } from "./i18n.js";

addStrings({
  vi: {
    "nav.contacts": "Danh bạ",
    "contacts.general": "Danh bạ chung", "contacts.internal": "Danh bạ nội bộ",
    "contacts.search": "Tìm theo tên hoặc số điện thoại…",
    "contacts.add": "Thêm liên hệ", "contacts.edit": "Sửa", "contacts.delete": "Xoá",
    "contacts.export": "Xuất Excel", "contacts.import": "Nhập từ Excel/CSV",
    "contacts.name": "Tên", "contacts.phones": "Số điện thoại", "contacts.email": "Email",
    "contacts.address": "Địa chỉ", "contacts.note": "Ghi chú", "contacts.created": "Ngày tạo",
    "contacts.createdBy": "Người tạo", "contacts.actions": "",
    "contacts.phonesHint": "Nhiều số cách nhau bằng dấu phẩy.",
    "contacts.none": "Chưa có liên hệ nào.", "contacts.noMatch": "Không có liên hệ nào khớp.",
    "contacts.more": "Tải thêm",
    "contacts.addTitle": "Thêm liên hệ", "contacts.editTitle": "Sửa liên hệ",
    "contacts.deleteAsk": "Xoá liên hệ {name}? Không thể hoàn tác.",
    "contacts.extension": "Máy lẻ", "contacts.department": "Phòng ban",
    "contacts.noInternal": "Chưa có thành viên nào.",
    "error.phone_taken": "Số {phone} đã thuộc liên hệ {contact_name}: mỗi số chỉ thuộc một khách hàng.",
    "error.invalid_phone": "{phone} không phải số điện thoại (ví dụ 0912345678 hoặc +84912345678).",
    "error.contact_not_found": "Liên hệ không còn (có thể đã bị xoá).",
    "import.title": "Nhập danh bạ", "import.file": "Tệp {name}",
    "import.staging": "Đang đọc tệp…",
    "import.summary": "{total} dòng: {valid} hợp lệ, {invalid} có lỗi (sẽ bỏ qua).",
    "import.line": "Dòng", "import.problem": "Vấn đề", "import.willUpdate": "Sẽ cập nhật {name}",
    "import.new": "Liên hệ mới", "import.showAll": "Xem mọi dòng", "import.showProblems": "Chỉ xem dòng có lỗi",
    "import.noProblems": "Không có dòng nào có lỗi.",
    "import.confirm": "Xác nhận nhập {valid} dòng", "import.cancel": "Huỷ",
    "import.running": "Đang nhập: {done}/{total}",
    "import.queued": "Đang chờ bắt đầu…",
    "import.done": "Đã nhập xong: {created} liên hệ mới, {updated} cập nhật, {unchanged} không đổi, {failed} lỗi.",
    "import.doneShort": "Đã nhập xong: {ok} dòng, {failed} lỗi.",
    "import.failed": "Nhập thất bại: {error}",
    "import.cancelled": "Đã huỷ lần nhập.",
    "import.close": "Đóng",
    "problem.name_missing": "Thiếu tên",
    "problem.phone_missing": "Thiếu số điện thoại",
    "problem.phone_invalid": "Số không hợp lệ: {value}",
    "problem.phone_repeated": "Trùng số với dòng {value}",
    "problem.too_long": "Quá dài: {value}",
    "problem.email_invalid": "Email không hợp lệ",
    "problem.row_malformed": "Dòng không đúng dạng",
    "error.unknown_columns": "Dòng đầu của tệp phải có các cột Tên và Số điện thoại (có thể thêm Email, Địa chỉ, Ghi chú).",
    "error.too_many_rows": "Tệp có quá nhiều dòng (tối đa 50.000): hãy chia nhỏ tệp.",
    "error.too_large": "Tệp quá lớn: hãy chia nhỏ tệp.",
    "error.missing_file": "Hãy chọn một tệp .xlsx hoặc .csv.",
    "error.unsupported_file": "Chỉ nhận tệp Excel (.xlsx) hoặc CSV (.csv).",
    "error.invalid_file": "Không đọc được tệp: hãy lưu lại dưới dạng .xlsx hoặc CSV UTF-8.",
    "error.empty_file": "Tệp không có dòng nào.",
  },
  en: {
    "nav.contacts": "Contacts",
    "contacts.general": "General", "contacts.internal": "Internal",
    "contacts.search": "Search by name or phone number…",
    "contacts.add": "Add contact", "contacts.edit": "Edit", "contacts.delete": "Delete",
    "contacts.export": "Export to Excel", "contacts.import": "Import from Excel/CSV",
    "contacts.name": "Name", "contacts.phones": "Phone numbers", "contacts.email": "Email",
    "contacts.address": "Address", "contacts.note": "Note", "contacts.created": "Created",
    "contacts.createdBy": "Created by", "contacts.actions": "",
    "contacts.phonesHint": "Separate several numbers with commas.",
    "contacts.none": "No contacts yet.", "contacts.noMatch": "No contact matches.",
    "contacts.more": "Load more",
    "contacts.addTitle": "Add contact", "contacts.editTitle": "Edit contact",
    "contacts.deleteAsk": "Delete the contact {name}? This cannot be undone.",
    "contacts.extension": "Extension", "contacts.department": "Department",
    "contacts.noInternal": "No members yet.",
    "error.phone_taken": "{phone} is already the number of {contact_name}: one customer per phone number.",
    "error.invalid_phone": "{phone} is not a phone number (for example 0912345678 or +84912345678).",
    "error.contact_not_found": "This contact is gone (it may have been deleted).",
    "import.title": "Import contacts", "import.file": "File {name}",
    "import.staging": "Reading the file…",
    "import.summary": "{total} rows: {valid} valid, {invalid} with problems (left out).",
    "import.line": "Line", "import.problem": "Problem", "import.willUpdate": "Will update {name}",
    "import.new": "New contact", "import.showAll": "Show every row", "import.showProblems": "Only rows with problems",
    "import.noProblems": "No row has a problem.",
    "import.confirm": "Import {valid} rows", "import.cancel": "Cancel",
    "import.running": "Importing: {done}/{total}",
    "import.queued": "Waiting to start…",
    "import.done": "Import finished: {created} new, {updated} updated, {unchanged} unchanged, {failed} failed.",
    "import.doneShort": "Import finished: {ok} rows, {failed} failed.",
    "import.failed": "The import failed: {error}",
    "import.cancelled": "Import cancelled.",
    "import.close": "Close",
    "problem.name_missing": "Name missing",
    "problem.phone_missing": "Phone number missing",
    "problem.phone_invalid": "Not a phone number: {value}",
    "problem.phone_repeated": "Same number as line {value}",
    "problem.too_long": "Too long: {value}",
    "problem.email_invalid": "Invalid email",
    "problem.row_malformed": "Malformed row",
    "error.unknown_columns": "The file's first row must name the columns Name and Phone (Email, Address, Note optional).",
    "error.too_many_rows": "The file has too many rows (at most 50,000): split it.",
    "error.too_large": "The file is too large: split it.",
    "error.missing_file": "Choose an .xlsx or .csv file.",
    "error.unsupported_file": "Only Excel (.xlsx) or CSV (.csv) files are taken.",
    "error.invalid_file": "The file cannot be read: save it as .xlsx or CSV UTF-8.",
    "error.empty_file": "The file has no rows.",
  },
});

const PAGE = 50;
const PREVIEW_ROWS = 200;
const number = (value) => new Intl.NumberFormat(locale()).format(value ?? 0);

/** An import row's problem code ("phone_invalid:12ab") in the reader's words. */
export function problemText(code) {
  const at = code.indexOf(":");
  const [name, value] = at < 0 ? [code, ""] : [code.slice(0, at), code.slice(at + 1)];
  return t(`problem.${name}`, { value });
}

export class Contacts {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.view = "general";
    this.contacts = []; // newest first, the pages read so far
    this.nextBefore = null;
    this.query = "";
    this.loaded = false;
    this.internal = null;
    this.job = null; // the import on screen: its job view, plus `imported` once contacts.imported came
    this.build();
  }

  build() {
    const sub = (view) => h("button", { type: "button", class: "subtab", dataset: { view }, "data-i18n": `contacts.${view}`,
      onclick: () => this.show(view) }, t(`contacts.${view}`));
    const search = h("input", { id: "contacts-q", type: "search", "data-i18n-placeholder": "contacts.search",
      placeholder: t("contacts.search"), size: 32 });
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.search(search.value.trim()), 250); // typed, not polled
    });
    const file = h("input", { id: "contacts-file", type: "file", accept: ".xlsx,.csv", hidden: true });
    file.addEventListener("change", () => {
      if (file.files[0]) this.stage(file.files[0]);
      file.value = "";
    });
    this.general = h("div", { id: "contacts-general" },
      h("div", { class: "filter-bar" }, search,
        h("button", { type: "button", id: "contacts-add", class: "primary", "data-i18n": "contacts.add",
          onclick: () => this.edit(null) }, t("contacts.add")),
        h("button", { type: "button", id: "contacts-export", class: "link", "data-i18n": "contacts.export",
          onclick: () => this.export() }, t("contacts.export")),
        h("label", { class: "button", id: "contacts-import" }, h("span", { "data-i18n": "contacts.import" }, t("contacts.import")), file)),
      h("p", { id: "contacts-error", class: "error", role: "alert", hidden: true }),
      h("section", { id: "contacts-import-panel", class: "contacts-import", hidden: true }),
      h("table", { class: "grid", id: "contact-list" }, h("thead"), h("tbody")),
      h("p", { id: "contacts-empty", class: "muted", hidden: true }),
      h("button", { type: "button", id: "contacts-more", hidden: true, "data-i18n": "contacts.more",
        onclick: () => this.more() }, t("contacts.more")));
    this.internalView = h("div", { id: "contacts-internal", hidden: true },
      h("table", { class: "grid", id: "internal-list" }, h("thead"), h("tbody")));
    replace(this.root,
      h("nav", { class: "contacts-views" }, sub("general"), sub("internal")),
      this.general, this.internalView);
    this.renderViews();
  }

  // -- reading -----------------------------------------------------------------------------------------

  open() {
    if (!this.loaded) this.reload().catch((err) => this.fail(err));
    if (this.view === "internal") this.loadInternal().catch((err) => this.fail(err));
  }

  /** Read again (the tab opened, a reconnect that lost events, an import done). */
  async reload() {
    const page = await api.get("/api/contacts", { q: this.query, limit: PAGE });
    this.contacts = page.contacts;
    this.nextBefore = page.next_before;
    this.loaded = true;
    this.renderList();
  }

  async search(text) {
    this.query = text;
    await this.reload().catch((err) => this.fail(err));
  }

  async more() {
    const page = await api.get("/api/contacts", { q: this.query, limit: PAGE, before: this.nextBefore });
    const known = new Set(this.contacts.map((c) => c.id));
    this.contacts.push(...page.contacts.filter((c) => !known.has(c.id)));
    this.nextBefore = page.next_before;
    this.renderList();
  }

  async loadInternal() {
    this.internal = (await api.get("/api/contacts/internal")).contacts;
    this.renderInternal();
  }

  show(view) {
    this.view = view;
    this.renderViews();
    this.open();
  }

  fail(err) {
    const slot = $("#contacts-error", this.root);
    slot.hidden = false;
    say(slot, () => this.ctx.errorText(err));
  }

  // -- live ----------------------------------------------------------------------------------------

  /** A contact event: whether it belongs in the list on screen is the search's to say, so with a search on
   *  a new or changed contact reads the list again; without one it goes on top. */
  apply(type, data) {
    if (type === "job.updated") return this.jobUpdated(data);
    if (type === "contacts.imported") {
      if (this.job?.id === data.job_id) {
        this.job.imported = data;
        this.renderImport();
      }
      if (this.loaded) this.reload().catch((err) => this.fail(err));
      return;
    }
    if (/^(member|extension|department)\./.test(type)) { // the internal directory (an extension's state is no part)
      if (this.internal && type !== "extension.state") this.loadInternal().catch((err) => this.fail(err));
      return;
    }
    if (!type.startsWith("contact.") || !this.loaded) return;
    const index = this.contacts.findIndex((c) => c.id === data.id);
    if (type === "contact.removed") {
      if (index >= 0) this.contacts.splice(index, 1);
    } else if (this.query) {
      this.reload().catch((err) => this.fail(err));
      return;
    } else if (index >= 0) {
      this.contacts[index] = data;
    } else {
      this.contacts.unshift(data);
    }
    this.renderList();
  }

  jobUpdated(job) {
    if (job.kind !== "contacts.import" || this.job?.id !== job.id) return;
    this.job = { ...this.job, ...job };
    this.renderImport();
  }

  // -- writing -------------------------------------------------------------------------------------

  edit(contact) {
    const input = (name, value, attrs = {}) => h("input", { name, value: value ?? "", ...attrs });
    const form = h("form", { class: "admin-form", id: "contact-form" },
      h("h3", {}, t(contact ? "contacts.editTitle" : "contacts.addTitle")),
      field("contacts.name", input("name", contact?.name, { maxlength: 200, autocomplete: "off" })),
      field("contacts.phones", input("phones", contact?.phones.join(", "), { inputmode: "tel" }), "contacts.phonesHint"),
      field("contacts.email", input("email", contact?.email, { type: "email", maxlength: 200 })),
      field("contacts.address", input("address", contact?.address, { maxlength: 500 })),
      field("contacts.note", h("textarea", { name: "note", rows: 3, maxlength: 2000 }, contact?.note ?? "")),
      formError(),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", onclick: () => dialog.close() }, t("form.cancel")),
        h("button", { type: "submit", class: "primary", id: "contact-save" }, t("form.save"))));
    const dialog = openDialog(form);
    onSubmit(form, async (data) => {
      if (!requireFilled(form, ["name", "phones"])) return;
      const body = {
        name: data.get("name").trim(),
        phones: data.get("phones").split(/[,;\n]+/).map((p) => p.trim()).filter(Boolean),
        email: data.get("email").trim(),
        address: data.get("address").trim(),
        note: data.get("note"),
      };
      const saved = contact ? await api.patch(`/api/contacts/${contact.id}`, body) : await api.post("/api/contacts", body);
      this.apply(contact ? "contact.updated" : "contact.created", saved); // its event may come first or after: the same
      dialog.close();
    });
  }

  async remove(contact) {
    if (!(await confirmDialog(t("contacts.deleteAsk", { name: contact.name }), t("contacts.delete")))) return;
    try {
      await api.delete(`/api/contacts/${contact.id}`);
      this.apply("contact.removed", { id: contact.id });
    } catch (err) {
      this.fail(err);
    }
  }

  async export() {
    try {
      await api.download("/api/contacts/export.xlsx", { q: this.query, lang: document.documentElement.lang === "en" ? "en" : "vi" });
    } catch (err) {
      this.fail(err);
    }
  }

  // -- importing -----------------------------------------------------------------------------------

  async stage(file) {
    this.job = { status: "staging", filename: file.name };
    this.preview = null;
    this.renderImport();
    try {
      this.job = { ...(await api.upload("/api/contacts/imports", file)), filename: file.name };
      this.onlyProblems = this.job.invalid > 0;
      await this.loadPreview();
    } catch (err) {
      this.job = { status: "refused", filename: file.name, error: this.ctx.errorText(err) };
      this.renderImport();
    }
  }

  async loadPreview() {
    const params = { limit: PREVIEW_ROWS, ...(this.onlyProblems ? { problems: "true" } : {}) };
    this.preview = (await api.get(`/api/contacts/imports/${this.job.id}/rows`, params)).rows;
    this.renderImport();
  }

  async confirmImport() {
    try {
      const job = await api.post(`/api/contacts/imports/${this.job.id}/confirm`);
      this.job = { ...this.job, ...job };
    } catch (err) {
      this.job.error = this.ctx.errorText(err);
    }
    this.renderImport();
  }

  async cancelImport() {
    if (this.job?.id && ["staged", "queued", "running"].includes(this.job.status)) {
      this.job = { ...this.job, ...(await api.post(`/api/contacts/imports/${this.job.id}/cancel`)) };
    }
    this.closeImport();
  }

  closeImport() {
    this.job = null;
    this.preview = null;
    this.renderImport();
  }

  // -- drawing -------------------------------------------------------------------------------------

  render() {
    this.renderViews();
    this.renderList();
    this.renderInternal();
    this.renderImport();
  }

  renderViews() {
    for (const button of this.root.querySelectorAll(".contacts-views .subtab")) {
      button.classList.toggle("active", button.dataset.view === this.view);
      button.textContent = t(`contacts.${button.dataset.view}`);
    }
    this.general.hidden = this.view !== "general";
    this.internalView.hidden = this.view !== "internal";
  }

  renderList() {
    const table = $("#contact-list", this.root);
    replace(table.tHead, h("tr", {}, ...["name", "phones", "email", "address", "note", "created", "actions"]
      .map((key) => h("th", {}, t(`contacts.${key}`)))));
    replace(table.tBodies[0], this.contacts.map((contact) => this.row(contact)));
    const empty = $("#contacts-empty", this.root);
    empty.hidden = !this.loaded || this.contacts.length > 0;
    empty.textContent = t(this.query ? "contacts.noMatch" : "contacts.none");
    $("#contacts-more", this.root).hidden = !this.nextBefore;
  }

  row(contact) {
    const openCustomer = () => { // the customer page (customer.js), by the contact's first number
      const phone = contact.phones_e164[0];
      if (!phone) return;
      if (this.ctx.openCustomer) this.ctx.openCustomer(phone);
      else location.hash = `#customer/${encodeURIComponent(phone)}`;
    };
    return h("tr", { class: "contact-row", dataset: { contactId: contact.id } },
      h("td", { class: "name" }, h("button", { type: "button", class: "link", onclick: openCustomer }, contact.name)),
      h("td", { class: "phones" }, contact.phones.join(", ")),
      h("td", {}, contact.email),
      h("td", {}, contact.address),
      h("td", { class: "contact-note" }, contact.note),
      h("td", {}, fmt.dateTime(contact.created_at)),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "link contact-edit", onclick: () => this.edit(contact) }, t("contacts.edit")),
        this.ctx.supervisor // rulebook: Action.contacts_delete
          ? h("button", { type: "button", class: "link danger contact-delete", onclick: () => this.remove(contact) },
            t("contacts.delete"))
          : null));
  }

  renderInternal() {
    const table = $("#internal-list", this.root);
    replace(table.tHead, h("tr", {}, ...["name", "extension", "department"].map((key) => h("th", {}, t(`contacts.${key}`)))));
    replace(table.tBodies[0], (this.internal ?? []).map((m) => h("tr", { dataset: { memberId: m.id } },
      h("td", { class: "name" }, m.name), h("td", { class: "extension" }, m.extension ?? ""),
      h("td", { class: "department" }, m.department ?? ""))));
  }

  renderImport() {
    const panel = $("#contacts-import-panel", this.root);
    const job = this.job;
    panel.hidden = !job;
    if (!job) return replace(panel);
    const title = h("h3", {}, t("import.title"), " — ", t("import.file", { name: job.params?.filename ?? job.filename }));
    if (job.status === "staging") return replace(panel, title, h("p", { class: "muted" }, t("import.staging")));
    if (job.status === "refused") {
      return replace(panel, title, h("p", { class: "error", role: "alert" }, job.error),
        h("button", { type: "button", onclick: () => this.closeImport() }, t("import.close")));
    }
    if (job.status === "staged") return replace(panel, title, ...this.previewParts());
    const parts = [title];
    if (job.status === "queued" || job.status === "running") {
      parts.push(h("progress", { id: "import-progress", max: job.valid || job.total || 1, value: job.done || 0 }),
        h("p", { id: "import-status", role: "status" },
          job.status === "queued" ? t("import.queued") : t("import.running", { done: number(job.done), total: number(job.valid) })));
    } else if (job.status === "completed") {
      const imported = job.imported;
      parts.push(h("progress", { id: "import-progress", max: 1, value: 1 }),
        h("p", { id: "import-status", role: "status", class: "import-done" }, imported
          ? t("import.done", { created: number(imported.created), updated: number(imported.updated),
            unchanged: number(job.ok - imported.created - imported.updated), failed: number(job.failed) })
          : t("import.doneShort", { ok: number(job.ok), failed: number(job.failed) })));
    } else if (job.status === "failed") {
      parts.push(h("p", { class: "error", role: "alert" }, t("import.failed", { error: job.error ?? "" })));
    } else if (job.status === "cancelled") {
      parts.push(h("p", { class: "muted" }, t("import.cancelled")));
    }
    if (job.error && job.status !== "failed") parts.push(h("p", { class: "error", role: "alert" }, job.error));
    if (!["queued", "running"].includes(job.status)) {
      parts.push(h("button", { type: "button", id: "import-close", onclick: () => this.closeImport() }, t("import.close")));
    }
    replace(panel, ...parts);
  }

  previewParts() {
    const job = this.job;
    const rows = this.preview ?? [];
    const table = h("table", { class: "grid", id: "import-preview" },
      h("thead", {}, h("tr", {}, ...["import.line", "contacts.name", "contacts.phones", "contacts.email", "import.problem"]
        .map((key) => h("th", {}, t(key))))),
      h("tbody", {}, rows.map((row) => h("tr", { class: row.problems.length ? "bad" : "ok", dataset: { line: row.data.line } },
        h("td", {}, row.data.line), h("td", {}, row.data.name), h("td", {}, row.data.phones.join(", ")),
        h("td", {}, row.data.email),
        h("td", { class: "problem" }, row.problems.length ? row.problems.map(problemText).join("; ")
          : row.existing ? t("import.willUpdate", { name: row.existing.name }) : t("import.new"))))));
    const toggle = h("button", { type: "button", class: "link", id: "import-toggle", onclick: () => {
      this.onlyProblems = !this.onlyProblems;
      this.loadPreview().catch((err) => this.fail(err));
    } }, t(this.onlyProblems ? "import.showAll" : "import.showProblems"));
    return [
      h("p", { id: "import-summary" }, t("import.summary", { total: number(job.total), valid: number(job.valid), invalid: number(job.invalid) })),
      toggle,
      rows.length ? table : h("p", { class: "muted" }, t("import.noProblems")),
      h("div", { class: "dialog-actions" },
        h("button", { type: "button", id: "import-cancel", onclick: () => this.cancelImport().catch((err) => this.fail(err)) }, t("import.cancel")),
        h("button", { type: "button", class: "primary", id: "import-confirm", disabled: !job.valid,
          onclick: () => this.confirmImport() }, t("import.confirm", { valid: number(job.valid) }))),
    ];
  }
}
