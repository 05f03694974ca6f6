// The console's Administration tab: one section per thing a company sets up, shown by role (owners and
// managers see them all but the audit log, which is the owner's; users see only their account). Each
// section loads when first opened and then follows the live events the console routes here.
import { Account, Audit } from "./admin_account.js";
import { Company, Labels } from "./admin_company.js";
import { Departments, Members } from "./admin_members.js";
import { Telephony } from "./admin_telephony.js";
import { $, h, replace } from "./dom.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    "nav.admin": "Quản trị",
    "admin.members": "Thành viên", "admin.departments": "Phòng ban", "admin.telephony": "Tổng đài",
    "admin.labels": "Nhãn", "admin.company": "Công ty", "admin.oa": "Zalo OA", "admin.audit": "Nhật ký",
    "admin.account": "Tài khoản",
    "admin.oaMissing": "Mục liên kết Zalo OA chưa có trong bản này.",
  },
  en: {
    "nav.admin": "Administration",
    "admin.members": "Members", "admin.departments": "Departments", "admin.telephony": "Telephony",
    "admin.labels": "Labels", "admin.company": "Company", "admin.oa": "Zalo OA", "admin.audit": "Audit log",
    "admin.account": "Account",
    "admin.oaMissing": "Zalo OA links are not available in this version.",
  },
});

// Linking Zalo OAs is another module's screen: mounted here when it is there.
class OaLinks {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
  }

  async load() {
    const mod = await import("./oa_links.js").catch(() => null);
    if (mod?.mountOaLinks) await mod.mountOaLinks(this.root, this.ctx);
    else replace(this.root, h("p", { class: "muted", id: "oa-missing" }, t("admin.oaMissing")));
    this.missing = !mod?.mountOaLinks;
  }

  render() {
    if (this.missing) $("#oa-missing", this.root).textContent = t("admin.oaMissing");
  }
}

const SECTIONS = [
  ["members", Members, ["owner", "manager"]],
  ["departments", Departments, ["owner", "manager"]],
  ["telephony", Telephony, ["owner", "manager"]],
  ["labels", Labels, ["owner", "manager"]],
  ["company", Company, ["owner", "manager"]],
  ["oa", OaLinks, ["owner", "manager"]],
  ["audit", Audit, ["owner"]],
  ["account", Account, ["owner", "manager", "user"]],
];

export class Admin {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.sections = new Map();
    this.loaded = new Set();
    this.current = null;
    const nav = h("nav", { class: "admin-nav", id: "admin-nav" });
    const body = h("div", { class: "admin-body" });
    replace(root, nav, body);
    for (const [name, Section, roles] of SECTIONS) {
      if (!roles.includes(ctx.me.role)) continue;
      const panel = h("section", { class: "admin-section", id: `admin-${name}`, hidden: true });
      body.append(panel);
      this.sections.set(name, new Section(ctx, panel));
      nav.append(h("button", { type: "button", class: "admin-link", dataset: { section: name }, onclick: () => this.show(name) },
        t(`admin.${name}`)));
    }
  }

  /** Called when the tab opens: the first section the role may see. */
  open() {
    this.show(this.current ?? this.sections.keys().next().value);
  }

  show(name) {
    this.current = name;
    for (const link of this.root.querySelectorAll(".admin-link")) link.classList.toggle("active", link.dataset.section === name);
    for (const [key, section] of this.sections) section.root.hidden = key !== name;
    if (!this.loaded.has(name)) {
      this.loaded.add(name);
      const section = this.sections.get(name);
      section.root.querySelector(":scope > .load-error")?.remove();
      section.load().catch((err) => {
        this.loaded.delete(name); // opening it again tries again
        section.root.prepend(h("p", { class: "error load-error", role: "alert" }, this.ctx.errorText(err)));
      });
    }
  }

  /** After the console re-read its lists (first sync, or a gap older than the hub keeps): sections read
   * theirs again when next shown, the one on screen at once. */
  reload() {
    this.ctx.departments = null;
    this.loaded.clear();
    if (this.current && !this.root.hidden) this.show(this.current);
  }

  /** A live event for the directory, labels or the company: every loaded section that shows it follows. */
  apply(type, data) {
    for (const [name, section] of this.sections) {
      if (this.loaded.has(name)) section.apply?.(type, data);
    }
  }

  render() {
    for (const link of this.root.querySelectorAll(".admin-link")) link.textContent = t(`admin.${link.dataset.section}`);
    for (const [name, section] of this.sections) {
      if (this.loaded.has(name)) section.render();
    }
  }
}
