// Administration: telephony — hotlines, extensions, the PBX webhook address and secret, wallboard displays.
import { encode } from "/vendor/uqr.mjs";
import { api } from "./api.js";
import { confirmDialog, field, formError, onSubmit, openDialog, requireFilled } from "./admin_form.js";
import { departments } from "./admin_members.js";
import { h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  vi: {
    "tel.hotlines": "Hotline", "tel.extensions": "Máy lẻ", "tel.pbx": "Kết nối tổng đài (PBX)",
    "tel.wallboards": "Màn hình treo tường",
    "tel.number": "Số", "tel.name": "Tên", "tel.department": "Phòng ban", "tel.holder": "Người giữ",
    "tel.state": "Trạng thái", "tel.add": "Thêm", "tel.remove": "Xoá",
    "tel.noHotlines": "Chưa có hotline nào.", "tel.noExtensions": "Chưa có máy lẻ nào.",
    "tel.unlisted": "Tổng đài đã đổ chuông số này nhưng nó chưa có trong danh bạ.",
    "tel.removeHotline": "Xoá hotline {number}?", "tel.removeExtension": "Xoá máy lẻ {number}?",
    "tel.webhook": "Địa chỉ webhook để dán vào tổng đài",
    "tel.rotate": "Tạo khoá bí mật mới",
    "tel.rotateConfirm": "Tạo khoá bí mật mới? Khoá cũ ngừng hoạt động ngay: tổng đài phải được cập nhật khoá mới.",
    "tel.rotateOwner": "Chỉ chủ sở hữu được tạo khoá bí mật mới.",
    "tel.secret": "Khoá bí mật (chỉ hiện một lần — hãy dán vào cấu hình tổng đài ngay):",
    "tel.header": "Mỗi yêu cầu của tổng đài mang tiêu đề:",
    "tel.wbName": "Tên màn hình", "tel.wbIssue": "Cấp màn hình mới", "tel.wbCreated": "Ngày cấp",
    "tel.wbRevoke": "Thu hồi", "tel.wbRevokeConfirm": "Thu hồi màn hình {name}? Màn hình đó sẽ ngắt ngay.",
    "tel.wbNone": "Chưa có màn hình nào.",
    "tel.wbLink": "Mở liên kết này trên TV, hoặc quét mã QR bằng điện thoại rồi mở trên TV:",
    "tel.wbExpires": "Hết hạn: {time}",
    "tel.wbDefault": "Màn hình treo tường",
  },
  en: {
    "tel.hotlines": "Hotlines", "tel.extensions": "Extensions", "tel.pbx": "PBX connection",
    "tel.wallboards": "Wallboard displays",
    "tel.number": "Number", "tel.name": "Name", "tel.department": "Department", "tel.holder": "Held by",
    "tel.state": "State", "tel.add": "Add", "tel.remove": "Remove",
    "tel.noHotlines": "No hotline yet.", "tel.noExtensions": "No extension yet.",
    "tel.unlisted": "The PBX rang this number but it is not in the directory.",
    "tel.removeHotline": "Remove hotline {number}?", "tel.removeExtension": "Remove extension {number}?",
    "tel.webhook": "Webhook address to paste into the PBX",
    "tel.rotate": "Rotate secret",
    "tel.rotateConfirm": "Create a new secret? The old one stops working at once: the PBX must be given the new one.",
    "tel.rotateOwner": "Only the owner may rotate the secret.",
    "tel.secret": "Secret (shown only once — paste it into the PBX's settings now):",
    "tel.header": "Every PBX request carries the header:",
    "tel.wbName": "Display name", "tel.wbIssue": "Issue a display", "tel.wbCreated": "Issued",
    "tel.wbRevoke": "Revoke", "tel.wbRevokeConfirm": "Revoke the display {name}? It disconnects at once.",
    "tel.wbNone": "No display yet.",
    "tel.wbLink": "Open this link on the TV, or scan the QR code with a phone and open it on the TV:",
    "tel.wbExpires": "Expires: {time}",
    "tel.wbDefault": "Wallboard",
  },
});

/** A QR code as SVG squares (drawn with DOM calls: no markup from strings). */
export function qrCode(text, size = 220) {
  const { data, size: modules } = encode(text, { border: 2, ecc: "M" });
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${modules} ${modules}`);
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  const background = document.createElementNS(ns, "rect");
  background.setAttribute("width", modules);
  background.setAttribute("height", modules);
  background.setAttribute("fill", "#fff");
  svg.append(background);
  let d = "";
  data.forEach((row, y) => row.forEach((dark, x) => {
    if (dark) d += `M${x} ${y}h1v1h-1z`;
  }));
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(path);
  return svg;
}

function sortByNumber(extensions) {
  return extensions.sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
}

export class Telephony {
  constructor(ctx, root) {
    this.ctx = ctx;
    this.root = root;
    this.hotlines = [];
    this.extensions = [];
    this.wallboards = [];
  }

  async load() {
    const [hotlines, extensions, wallboards] = await Promise.all([
      api.get("/api/hotlines"), api.get("/api/extensions"), api.get("/api/wallboard-tokens"), departments(this.ctx),
    ]);
    this.hotlines = hotlines.hotlines;
    this.extensions = extensions.extensions;
    this.wallboards = wallboards.wallboard_tokens;
    this.render();
  }

  apply(type, data) {
    if (type === "wallboard.revoked") {
      this.wallboards = this.wallboards.filter((w) => w.id !== data.id);
      this.renderWallboards();
    }
    if (type === "wallboard.issued" && !this.wallboards.some((w) => w.id === data.id)) {
      this.wallboards = [...this.wallboards, data];
      this.renderWallboards();
    }
    if (type === "hotline.created" && !this.hotlines.some((x) => x.id === data.id)) {
      this.hotlines = sortByNumber([...this.hotlines, data]);
      this.renderHotlines();
    }
    if (type === "hotline.removed") {
      this.hotlines = this.hotlines.filter((x) => x.id !== data.id);
      this.renderHotlines();
    }
    if (type === "extension.created") {
      const state = this.extensions.find((e) => e.number === data.number)?.state ?? "idle";
      this.extensions = sortByNumber([...this.extensions.filter((e) => e.number !== data.number),
        { ...data, listed: true, state }]);
      this.renderExtensions();
    }
    if (type === "extension.removed") {
      // A number the PBX still reports stays, as one the directory lacks.
      this.extensions = this.extensions.filter((e) => e.number !== data.number);
      if (data.state) this.extensions = sortByNumber([...this.extensions, { number: data.number, member_id: null, name: null, listed: false, state: data.state }]);
      this.renderExtensions();
    }
    if (type === "extension.state") {
      // A number the PBX rang that the directory lacks shows up at once, offered to be added.
      const known = this.extensions.find((e) => e.number === data.extension);
      if (known) known.state = data.state;
      else this.extensions = sortByNumber([...this.extensions, { number: data.extension, member_id: null, name: null, listed: false, state: data.state }]);
      this.renderExtensions();
    }
    if (type === "member.created" || type === "member.updated") {
      // Giving a member a number the directory lacks adds it to the directory.
      if (data.extension && !this.extensions.some((e) => e.number === data.extension && e.listed !== false)) {
        const state = this.extensions.find((e) => e.number === data.extension)?.state ?? "idle";
        this.extensions = sortByNumber([...this.extensions.filter((e) => e.number !== data.extension),
          { number: data.extension, member_id: data.id, name: null, listed: true, state }]);
      }
    }
    if (type.startsWith("member.")) this.renderExtensions(); // who holds which extension
    if (type.startsWith("department.")) this.renderHotlines();
  }

  render() {
    const webhook = `${location.origin}/webhooks/pbx/${this.ctx.company?.code ?? ""}`;
    this.hotlineBody = h("tbody");
    this.extensionBody = h("tbody");
    this.wallboardBody = h("tbody");
    this.secret = h("div", { id: "pbx-secret" });
    const owner = this.ctx.me.role === "owner";
    this.error = h("p", { class: "error", id: "telephony-error", role: "alert", hidden: true });
    replace(this.root, this.error,
      h("h3", {}, t("tel.hotlines")),
      this.addForm("hotline-form", [
        field("tel.number", h("input", { name: "number", maxlength: 32, size: 14 })),
        field("tel.name", h("input", { name: "name", maxlength: 200 })),
        field("tel.department", h("select", { name: "department_id" }, option("", "–"),
          [...(this.ctx.departments?.values() ?? [])].map((d) => option(d.id, d.name)))),
      ], async (data) => {
        const added = await api.post("/api/hotlines", {
          number: data.get("number").trim(), name: data.get("name").trim() || null, department_id: data.get("department_id") || null,
        });
        this.hotlines = [...this.hotlines.filter((x) => x.id !== added.id), added]; // its event may have come first
        this.renderHotlines();
      }),
      h("table", { class: "grid", id: "hotlines-table" }, h("thead", {}, h("tr", {},
        ["tel.number", "tel.name", "tel.department", "common.actions"].map((key) => h("th", {}, t(key))))), this.hotlineBody),

      h("h3", {}, t("tel.extensions")),
      this.addForm("extension-add-form", [
        field("tel.number", h("input", { name: "number", maxlength: 16, size: 8 })),
        field("tel.name", h("input", { name: "name", maxlength: 200 })),
      ], (data) => this.addExtension(data.get("number").trim(), data.get("name").trim() || null)),
      h("table", { class: "grid", id: "extensions-table" }, h("thead", {}, h("tr", {},
        ["tel.number", "tel.name", "tel.holder", "tel.state", "common.actions"].map((key) => h("th", {}, t(key))))),
      this.extensionBody),

      h("h3", {}, t("tel.pbx")),
      h("div", { class: "admin-card" },
        h("p", {}, t("tel.webhook"), h("br"), h("code", { id: "pbx-webhook" }, webhook)),
        owner ? h("button", { type: "button", id: "pbx-rotate", onclick: () => this.rotate() }, t("tel.rotate"))
          : h("p", { class: "muted" }, t("tel.rotateOwner")),
        this.secret),

      h("h3", {}, t("tel.wallboards")),
      this.addForm("wallboard-form", [
        field("tel.wbName", h("input", { name: "name", maxlength: 100, value: t("tel.wbDefault") })),
      ], (data) => this.issueWallboard(data.get("name").trim()), "tel.wbIssue"),
      h("table", { class: "grid", id: "wallboards-table" }, h("thead", {}, h("tr", {},
        ["tel.wbName", "tel.wbCreated", "common.actions"].map((key) => h("th", {}, t(key))))), this.wallboardBody));
    this.renderHotlines();
    this.renderExtensions();
    this.renderWallboards();
    this.renderSecret();
  }

  /** A row's action: a refusal is said above the lists, in the reader's language. */
  async guard(action) {
    this.error.hidden = true;
    try {
      await action();
    } catch (err) {
      this.error.textContent = this.ctx.errorText(err);
      this.error.hidden = false;
    }
  }

  addForm(id, fields, send, buttonKey = "tel.add") {
    const form = h("form", { id, class: "admin-form inline-form" }, fields, formError(),
      h("button", { type: "submit", class: "primary" }, t(buttonKey)));
    onSubmit(form, async (data) => {
      if (data.has("number") && !requireFilled(form, ["number"])) return;
      if (!data.has("number") && !requireFilled(form, ["name"])) return;
      await send(data);
      form.reset();
    });
    return form;
  }

  renderHotlines() {
    if (!this.hotlineBody) return;
    replace(this.hotlineBody, this.hotlines.length ? this.hotlines.map((line) => h("tr", { dataset: { hotlineId: line.id } },
      h("td", {}, line.number), h("td", {}, line.name ?? ""),
      h("td", {}, this.ctx.departments?.get(line.department_id)?.name ?? "–"),
      h("td", {}, h("button", { type: "button", class: "link danger", onclick: () => this.guard(() => this.removeHotline(line)) }, t("tel.remove")))))
      : h("tr", {}, h("td", { colspan: 4, class: "muted" }, t("tel.noHotlines"))));
  }

  renderExtensions() {
    if (!this.extensionBody) return;
    // Who holds an extension is the member list's word (kept live by member.* events).
    const holders = new Map([...this.ctx.members.values()].filter((m) => m.extension).map((m) => [m.extension, m]));
    replace(this.extensionBody, this.extensions.length ? this.extensions.map((ext) => {
      const holder = holders.get(ext.number);
      return h("tr", { dataset: { extension: ext.number, listed: String(ext.listed !== false) }, class: ext.listed === false ? "unlisted" : null },
        h("td", {}, ext.number),
        h("td", {}, ext.listed === false ? h("span", { class: "muted" }, t("tel.unlisted")) : ext.name ?? ""),
        h("td", {}, holder?.name ?? "–"),
        h("td", {}, ext.state ? t(`ext.${ext.state}`) : "–"),
        h("td", {}, ext.listed === false
          ? h("button", { type: "button", class: "link add", onclick: () => this.guard(() => this.addExtension(ext.number, null)) }, t("tel.add"))
          : holder ? null
            : h("button", { type: "button", class: "link danger", onclick: () => this.guard(() => this.removeExtension(ext)) }, t("tel.remove"))));
    }) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("tel.noExtensions"))));
  }

  renderWallboards() {
    if (!this.wallboardBody) return;
    replace(this.wallboardBody, this.wallboards.length ? this.wallboards.map((w) => h("tr", { dataset: { wallboardId: w.id } },
      h("td", {}, w.name), h("td", {}, w.created_at ? fmt.dateTime(w.created_at) : "–"),
      h("td", {}, h("button", { type: "button", class: "link danger", onclick: () => this.guard(() => this.revokeWallboard(w)) }, t("tel.wbRevoke")))))
      : h("tr", {}, h("td", { colspan: 3, class: "muted" }, t("tel.wbNone"))));
  }

  async addExtension(number, name) {
    const added = await api.post("/api/extensions", { number, name });
    const state = this.extensions.find((e) => e.number === number)?.state ?? "idle";
    this.extensions = sortByNumber([...this.extensions.filter((e) => e.number !== number), { ...added, listed: true, state }]);
    this.renderExtensions();
  }

  async removeHotline(line) {
    if (!(await confirmDialog(t("tel.removeHotline", { number: line.number }), t("tel.remove")))) return;
    await api.delete(`/api/hotlines/${line.id}`);
    this.hotlines = this.hotlines.filter((x) => x.id !== line.id);
    this.renderHotlines();
  }

  async removeExtension(ext) {
    if (!(await confirmDialog(t("tel.removeExtension", { number: ext.number }), t("tel.remove")))) return;
    await api.delete(`/api/extensions/${encodeURIComponent(ext.number)}`);
    this.extensions = this.extensions.filter((x) => x.number !== ext.number);
    this.renderExtensions();
  }

  async rotate() {
    if (!(await confirmDialog(t("tel.rotateConfirm"), t("tel.rotate")))) return;
    try {
      this.rotated = await api.post("/api/pbx/secret"); // kept on this page only, across a language switch
      this.renderSecret();
    } catch (err) {
      replace(this.secret, h("p", { class: "error", role: "alert" }, this.ctx.errorText(err)));
    }
  }

  renderSecret() {
    if (!this.rotated) return;
    const { secret, header } = this.rotated;
    replace(this.secret, h("div", { class: "note" },
      h("p", {}, t("tel.secret")), h("p", {}, h("code", { id: "pbx-secret-value", class: "secret" }, secret)),
      h("p", {}, t("tel.header")), h("p", {}, h("code", {}, header))));
  }

  async issueWallboard(name) {
    const issued = await api.post("/api/wallboard-tokens", { name });
    if (!this.wallboards.some((w) => w.id === issued.id)) { // its wallboard.issued may have come first
      this.wallboards = [...this.wallboards, { id: issued.id, name: issued.name, created_at: new Date().toISOString() }];
    }
    this.renderWallboards();
    // The display takes its token from the link's fragment, which never reaches a server log.
    const url = `${location.origin}/wallboard#token=${issued.token}`;
    const dialog = openDialog(h("form", { method: "dialog", class: "admin-form", id: "wallboard-issued" },
      h("h3", {}, issued.name),
      h("p", {}, t("tel.wbLink")),
      h("p", {}, h("a", { href: url, id: "wallboard-issued-url", target: "_blank", rel: "noopener", class: "wrap" }, url)),
      h("div", { class: "qr-box", id: "wallboard-qr" }, qrCode(url)),
      issued.expires_at ? h("p", { class: "muted" }, t("tel.wbExpires", { time: fmt.dateTime(issued.expires_at) })) : null,
      h("div", { class: "dialog-actions" }, h("button", { class: "primary" }, t("form.close")))));
    return dialog;
  }

  async revokeWallboard(w) {
    if (!(await confirmDialog(t("tel.wbRevokeConfirm", { name: w.name }), t("tel.wbRevoke")))) return;
    await api.delete(`/api/wallboard-tokens/${w.id}`);
    this.wallboards = this.wallboards.filter((x) => x.id !== w.id);
    this.renderWallboards();
  }
}
