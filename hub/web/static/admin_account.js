// Administration: the person's own account (password, companies, switching) and the owner's audit log.
import { api, saveSession } from "./api.js";
import { field, formError, onSubmit, requireFilled, showError } from "./admin_form.js";
import { departments } from "./admin_members.js";
import { h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, has, t } from "./i18n.js";

addStrings({
  vi: {
    "account.password": "Đổi mật khẩu", "account.current": "Mật khẩu hiện tại", "account.new": "Mật khẩu mới",
    "account.confirm": "Nhập lại mật khẩu mới", "account.change": "Đổi mật khẩu",
    "account.changed": "Đã đổi mật khẩu. Mọi phiên đăng nhập khác của tài khoản này đã bị đóng.",
    "account.companies": "Công ty của tôi", "account.code": "Mã công ty", "account.name": "Tên công ty",
    "account.role": "Vai trò", "account.switch": "Chuyển sang", "account.current.company": "Đang dùng",
    "audit.member": "Người thực hiện", "audit.anyMember": "Mọi người", "audit.action": "Hành động",
    "audit.anyAction": "Mọi hành động",
    "audit.from": "Từ ngày", "audit.to": "Đến ngày", "audit.filter": "Lọc", "audit.at": "Thời điểm",
    "audit.subject": "Đối tượng", "audit.details": "Chi tiết", "audit.older": "Cũ hơn",
    "audit.none": "Không có mục nào.",

    "audit.act.member.created": "Thêm thành viên",
    "audit.act.member.removed": "Xoá thành viên",
    "audit.act.member.renamed": "Đổi tên thành viên",
    "audit.act.member.role_changed": "Đổi vai trò",
    "audit.act.member.department_changed": "Chuyển phòng ban",
    "audit.act.member.extension_given": "Gán máy lẻ",
    "audit.act.member.extension_removed": "Gỡ máy lẻ",
    "audit.act.department.created": "Tạo phòng ban",
    "audit.act.department.updated": "Sửa phòng ban",
    "audit.act.department.removed": "Xoá phòng ban",
    "audit.act.hotline.added": "Thêm hotline",
    "audit.act.hotline.removed": "Xoá hotline",
    "audit.act.extension.added": "Thêm máy lẻ",
    "audit.act.extension.removed": "Xoá máy lẻ",
    "audit.act.pbx.secret_rotated": "Tạo khoá bí mật PBX mới",
    "audit.act.wallboard.issued": "Cấp màn hình treo tường",
    "audit.act.wallboard.revoked": "Thu hồi màn hình treo tường",
    "audit.act.oa_link.created": "Liên kết Zalo OA",
    "audit.act.oa_link.relinked": "Liên kết lại Zalo OA",
    "audit.act.oa_link.updated": "Sửa liên kết Zalo OA",
    "audit.act.oa_link.removed": "Ngắt liên kết Zalo OA",
    "audit.act.thread.reassigned": "Chuyển hội thoại",
    "audit.act.company.updated": "Sửa thông tin công ty",
    "audit.act.account.password_changed": "Đổi mật khẩu",
    "audit.act.login.succeeded": "Đăng nhập",
    "audit.act.login.refused": "Đăng nhập bị từ chối",
  },
  en: {
    "account.password": "Change password", "account.current": "Current password", "account.new": "New password",
    "account.confirm": "New password again", "account.change": "Change password",
    "account.changed": "Password changed. Every other session of this account was closed.",
    "account.companies": "My companies", "account.code": "Company code", "account.name": "Company name",
    "account.role": "Role", "account.switch": "Switch", "account.current.company": "Current",
    "audit.member": "Member", "audit.anyMember": "Anyone", "audit.action": "Action",
    "audit.anyAction": "Any action",
    "audit.from": "From", "audit.to": "To", "audit.filter": "Filter", "audit.at": "When",
    "audit.subject": "Subject", "audit.details": "Details", "audit.older": "Older",
    "audit.none": "No entry.",

    "audit.act.member.created": "Member added",
    "audit.act.member.removed": "Member removed",
    "audit.act.member.renamed": "Member renamed",
    "audit.act.member.role_changed": "Role changed",
    "audit.act.member.department_changed": "Department changed",
    "audit.act.member.extension_given": "Extension assigned",
    "audit.act.member.extension_removed": "Extension taken away",
    "audit.act.department.created": "Department created",
    "audit.act.department.updated": "Department changed",
    "audit.act.department.removed": "Department deleted",
    "audit.act.hotline.added": "Hotline added",
    "audit.act.hotline.removed": "Hotline removed",
    "audit.act.extension.added": "Extension added",
    "audit.act.extension.removed": "Extension removed",
    "audit.act.pbx.secret_rotated": "PBX secret rotated",
    "audit.act.wallboard.issued": "Wallboard issued",
    "audit.act.wallboard.revoked": "Wallboard revoked",
    "audit.act.oa_link.created": "Zalo OA linked",
    "audit.act.oa_link.relinked": "Zalo OA relinked",
    "audit.act.oa_link.updated": "Zalo OA link changed",
    "audit.act.oa_link.removed": "Zalo OA disconnected",
    "audit.act.thread.reassigned": "Conversation reassigned",
    "audit.act.company.updated": "Company changed",
    "audit.act.account.password_changed": "Password changed",
    "audit.act.login.succeeded": "Logged in",
    "audit.act.login.refused": "Login refused",
  },
});

export class Account {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.companies = [];
  }

  async load() {
    this.render();
    this.companies = (await api.get("/api/account/companies")).companies;
    this.renderCompanies();
  }

  render() {
    const form = h("form", { id: "password-form", class: "admin-form" },
      h("h3", {}, t("account.password")),
      field("account.current", h("input", { name: "current", type: "password", autocomplete: "current-password" })),
      field("account.new", h("input", { name: "new", type: "password", autocomplete: "new-password" })),
      field("account.confirm", h("input", { name: "confirm", type: "password", autocomplete: "new-password" })),
      formError(),
      h("div", { class: "dialog-actions" }, h("button", { type: "submit", class: "primary" }, t("account.change"))),
      h("p", { class: "note", id: "password-changed", hidden: !this.changed }, t("account.changed")));
    onSubmit(form, (data) => this.changePassword(form, data));
    this.companyBody = h("tbody");
    replace(this.root, form,
      h("h3", {}, t("account.companies")),
      h("table", { class: "grid", id: "companies-table" }, h("thead", {}, h("tr", {},
        ["account.code", "account.name", "account.role", "common.actions"].map((key) => h("th", {}, t(key))))), this.companyBody));
    this.renderCompanies();
  }

  async changePassword(form, data) {
    this.changed = false;
    form.querySelector("#password-changed").hidden = true;
    if (!requireFilled(form, ["current", "new", "confirm"])) return;
    if (data.get("new").length < 8) {
      showError(form, "new", t("form.tooShort"));
      return;
    }
    if (data.get("new") !== data.get("confirm")) {
      showError(form, "confirm", t("form.mismatch"));
      return;
    }
    this.ctx.changingPassword = true; // this console's own session.revoked is not a reason to leave
    try {
      const result = await api.post("/api/account/password", { current: data.get("current"), new: data.get("new") });
      saveSession({ token: result.token, member: result.member });
      this.ctx.reconnect?.();
    } finally {
      this.ctx.changingPassword = false;
    }
    form.reset();
    this.changed = true;
    form.querySelector("#password-changed").hidden = false;
  }

  renderCompanies() {
    if (!this.companyBody) return;
    const here = this.ctx.company?.code;
    replace(this.companyBody, this.companies.map((c) => h("tr", { dataset: { code: c.code } },
      h("td", {}, h("code", {}, c.code)), h("td", {}, c.name), h("td", {}, t(`role.${c.role}`)),
      h("td", {}, c.code === here ? h("span", { class: "badge" }, t("account.current.company"))
        : h("button", { type: "button", class: "switch", onclick: () => this.switchTo(c.code) }, t("account.switch"))))));
  }

  async switchTo(code) {
    try {
      const result = await api.post("/api/auth/switch", { company_code: code });
      saveSession({ token: result.token, member: result.member });
      location.assign("/console"); // another company: every list is another one
    } catch (err) {
      replace(this.companyBody, h("tr", {}, h("td", { colspan: 4, class: "error" }, this.ctx.errorText(err))));
    }
  }
}

// What the audit log records (hub/audit.py's callers), offered as the action filter, said in words.
const AUDIT_ACTIONS = [
  "member.created",
  "member.removed",
  "member.renamed",
  "member.role_changed",
  "member.department_changed",
  "member.extension_given",
  "member.extension_removed",
  "department.created",
  "department.updated",
  "department.removed",
  "hotline.added",
  "hotline.removed",
  "extension.added",
  "extension.removed",
  "pbx.secret_rotated",
  "wallboard.issued",
  "wallboard.revoked",
  "oa_link.created",
  "oa_link.relinked",
  "oa_link.updated",
  "oa_link.removed",
  "thread.reassigned",
  "company.updated",
  "account.password_changed",
  "login.succeeded",
  "login.refused",
];

function actionWords(action) {
  return has(`audit.act.${action}`) ? t(`audit.act.${action}`) : action;
}

export class Audit {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.entries = [];
    this.filters = {};
    this.seen = new Map(); // member id -> name, from the entries read
  }

  async load() {
    await departments(this.ctx).catch(() => null); // their names in the details
    this.render();
    await this.fetch(false);
  }

  /** A detail's value in words where it names a role, a department or a member. */
  word(value) {
    if (typeof value !== "string") return value === null ? "–" : JSON.stringify(value);
    if (["owner", "manager", "user"].includes(value)) return t(`role.${value}`);
    return this.ctx.departments?.get(value)?.name ?? this.ctx.members.get(value)?.name ?? this.seen.get(value) ?? value;
  }

  apply(type) {
    if (type.startsWith("member.")) this.renderMemberChoice();
  }

  render() {
    this.memberChoice = h("select", { name: "member", "aria-label": t("audit.member") });
    this.tbody = h("tbody");
    this.older = h("button", { type: "button", class: "link", id: "audit-older", hidden: true, onclick: () => this.fetch(true) },
      t("audit.older"));
    this.form = h("form", { id: "audit-filters", class: "filter-bar" },
      h("label", {}, h("span", {}, t("audit.member")), this.memberChoice),
      h("label", {}, h("span", {}, t("audit.action")), h("select", { name: "action" }, option("", t("audit.anyAction"), !this.filters.action),
        AUDIT_ACTIONS.map((action) => option(action, actionWords(action), action === this.filters.action)))),
      h("label", {}, h("span", {}, t("audit.from")), h("input", { name: "from", type: "date", value: this.filters.fromDate ?? "" })),
      h("label", {}, h("span", {}, t("audit.to")), h("input", { name: "to", type: "date", value: this.filters.toDate ?? "" })),
      h("button", { type: "submit" }, t("audit.filter")));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.fetch(false).catch((err) => console.error(err));
    });
    this.renderMemberChoice();
    this.error = h("p", { class: "error", role: "alert", hidden: true });
    replace(this.root, this.form, this.error,
      h("table", { class: "grid", id: "audit-table" }, h("thead", {}, h("tr", {},
        ["audit.at", "audit.member", "audit.action", "audit.subject", "audit.details"].map((key) => h("th", {}, t(key))))), this.tbody),
      this.older);
    this.renderRows();
  }

  renderMemberChoice() {
    if (!this.memberChoice) return;
    const chosen = this.memberChoice.value || this.filters.member || "";
    // Members of now, and those the log names who have left since (their entries stay a year).
    const names = new Map([...this.seen, ...[...this.ctx.members.values()].map((m) => [m.id, m.name])]);
    replace(this.memberChoice, option("", t("audit.anyMember"), !chosen),
      [...names].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => option(id, name, id === chosen)));
  }

  async fetch(older) {
    const data = new FormData(this.form);
    this.filters = { member: data.get("member"), action: data.get("action"), fromDate: data.get("from"), toDate: data.get("to") };
    const to = this.filters.toDate ? new Date(Date.parse(fmt.zoneMidnight(this.filters.toDate)) + 86400000).toISOString() : null;
    this.error.hidden = true;
    try {
      const page = await api.get("/api/audit", {
        member: this.filters.member, action: this.filters.action, from: fmt.zoneMidnight(this.filters.fromDate), to,
        before: older ? this.nextBefore : null, limit: 50,
      });
      this.entries = older ? [...this.entries, ...page.entries] : page.entries;
      this.nextBefore = page.next_before ?? (page.entries.length === 50 ? page.entries.at(-1).id : null);
      this.more = Boolean(this.nextBefore);
      for (const e of page.entries) if (e.member_id && e.member_name) this.seen.set(e.member_id, e.member_name);
      this.renderMemberChoice();
    } catch (err) {
      this.error.textContent = this.ctx.errorText(err);
      this.error.hidden = false;
    }
    this.renderRows();
  }

  renderRows() {
    this.older.hidden = !this.more;
    replace(this.tbody, this.entries.length ? this.entries.map((e) => h("tr", { dataset: { action: e.action } },
      h("td", {}, fmt.dateTime(e.at)),
      h("td", {}, e.member_name ?? this.ctx.memberName(e.member_id)),
      h("td", { title: e.action }, actionWords(e.action)),
      h("td", {}, typeof e.subject === "object" && e.subject ? e.subject.name ?? e.subject.id ?? "" : e.subject ?? ""),
      h("td", { class: "muted" }, e.details && Object.keys(e.details).length
        ? Object.entries(e.details).map(([k, v]) => `${k}: ${this.word(v)}`).join(" · ") : "")))
      : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("audit.none"))));
  }
}
