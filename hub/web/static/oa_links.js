// Zalo OA links (owners manage, managers see): one card per link with what Zalo says of the OA, its
// tokens' expiries and the 7-day refresh warning, the webhook address, quota and quality; "Link with
// Zalo" (OAuth v4 permission page), relink, the paste-the-tokens form, disconnect, department routing.
//
// mountOaLinks(container, ctx) draws the screen; console.js routes every oa_link.* envelope to
// applyOaLinkEvent(envelope), which keeps ctx.oaLinks current and redraws a mounted screen.
import { api } from "./api.js";
import { h, option, replace } from "./dom.js";
import * as fmt from "./format.js";
import { addStrings, locale, onLangChange, t } from "./i18n.js";

addStrings({
  vi: {
    "oa.title": "Zalo Official Account",
    "oa.empty": "Chưa liên kết OA nào.",
    "oa.link": "Liên kết với Zalo",
    "oa.paste": "Dán token",
    "oa.app_id": "App ID",
    "oa.app_secret": "Khóa bí mật của ứng dụng (App secret)",
    "oa.oa_secret_key": "OA Secret Key (trong cài đặt Webhook của ứng dụng)",
    "oa.oa_id": "OA ID",
    "oa.name": "Tên hiển thị",
    "oa.access_token": "Access token",
    "oa.refresh_token": "Refresh token",
    "oa.department": "Phòng ban nhận hội thoại",
    "oa.department.none": "Không chọn phòng ban",
    "oa.go": "Tiếp tục tới Zalo",
    "oa.save": "Lưu",
    "oa.cancel": "Hủy",
    "oa.followers": "{n} người quan tâm",
    "oa.verified": "Đã xác thực",
    "oa.unverified": "Chưa xác thực",
    "oa.status.active": "Đang kết nối",
    "oa.status.disconnected": "Đã ngắt kết nối",
    "oa.status.lapsed": "Refresh token đã hết hạn",
    "oa.access_expires": "Access token hết hạn: {when}",
    "oa.refresh_expires": "Refresh token hết hạn: {when}",
    "oa.warning": "Refresh token sẽ hết hạn vào {when}: hãy kết nối lại với Zalo trước ngày đó.",
    "oa.lapsed": "Refresh token đã hết hạn: OA không gửi được tin cho đến khi bạn kết nối lại với Zalo.",
    "oa.package": "Gói: {name} (đến {until})",
    "oa.zns_quota": "Hạn mức ZNS mỗi ngày: {n}",
    "oa.quality": "Chất lượng gửi tin: {q}",
    "oa.quality.HIGH": "Cao", "oa.quality.MEDIUM": "Trung bình", "oa.quality.LOW": "Thấp", "oa.quality.UNDEFINED": "Chưa xác định",
    "oa.allowance": "{product} · {type}: còn {remain}/{total} (đến {until})",
    "oa.webhook": "Địa chỉ Webhook (dán vào ứng dụng Zalo):",
    "oa.copy": "Sao chép",
    "oa.copied": "Đã sao chép",
    "oa.key_missing": "Chưa có OA Secret Key: webhook của OA này chưa được xác minh. Nhập khóa:",
    "oa.relink": "Kết nối lại với Zalo",
    "oa.relink_paste": "Kết nối lại bằng token",
    "oa.refresh": "Cập nhật thông tin",
    "oa.disconnect": "Ngắt kết nối",
    "oa.disconnect.confirm": "Ngắt kết nối OA {name}? Tin nhắn sẽ không được gửi hoặc nhận qua OA này.",
    "oa.info_error": "Không đọc được thông tin OA từ Zalo: {why}",
    "oa.linked": "Đã liên kết OA {name}.",
    "oa.fail": "Liên kết OA không thành công: {why}",
    "oa.fail.denied": "bạn (hoặc quản trị viên OA) đã không cho phép ứng dụng quản lý OA.",
    "oa.fail.state_unknown": "yêu cầu liên kết không hợp lệ hoặc đã được dùng; hãy bắt đầu lại.",
    "oa.fail.state_expired": "yêu cầu liên kết đã quá 10 phút; hãy bắt đầu lại.",
    "oa.fail.exchange_failed": "Zalo không cấp token ({code}: {detail}). Kiểm tra App ID, khóa bí mật và Callback URL của ứng dụng.",
    "oa.fail.other_oa": "bạn đã cho phép một OA khác với OA cần kết nối lại.",
    "oa.fail.oa_taken": "OA này đang được liên kết với công ty khác.",
    "oa.fail.no_oa": "Zalo không cho biết OA nào đã được cho phép.",
  },
  en: {
    "oa.title": "Zalo Official Accounts",
    "oa.empty": "No OA linked yet.",
    "oa.link": "Link with Zalo",
    "oa.paste": "Paste tokens",
    "oa.app_id": "App ID",
    "oa.app_secret": "App secret",
    "oa.oa_secret_key": "OA Secret Key (the app's Webhook settings)",
    "oa.oa_id": "OA ID",
    "oa.name": "Display name",
    "oa.access_token": "Access token",
    "oa.refresh_token": "Refresh token",
    "oa.department": "Department that receives chats",
    "oa.department.none": "No department",
    "oa.go": "Continue to Zalo",
    "oa.save": "Save",
    "oa.cancel": "Cancel",
    "oa.followers": "{n} followers",
    "oa.verified": "Verified",
    "oa.unverified": "Not verified",
    "oa.status.active": "Connected",
    "oa.status.disconnected": "Disconnected",
    "oa.status.lapsed": "Refresh token expired",
    "oa.access_expires": "Access token expires: {when}",
    "oa.refresh_expires": "Refresh token expires: {when}",
    "oa.warning": "The refresh token expires on {when}: link the OA with Zalo again before then.",
    "oa.lapsed": "The refresh token has expired: the OA sends nothing until you link it with Zalo again.",
    "oa.package": "Package: {name} (until {until})",
    "oa.zns_quota": "ZNS daily quota: {n}",
    "oa.quality": "Sending quality: {q}",
    "oa.quality.HIGH": "High", "oa.quality.MEDIUM": "Medium", "oa.quality.LOW": "Low", "oa.quality.UNDEFINED": "Undefined",
    "oa.allowance": "{product} · {type}: {remain}/{total} left (until {until})",
    "oa.webhook": "Webhook address (paste it into the Zalo app):",
    "oa.copy": "Copy",
    "oa.copied": "Copied",
    "oa.key_missing": "No OA Secret Key yet: this OA's webhooks cannot be verified. Enter the key:",
    "oa.relink": "Relink with Zalo",
    "oa.relink_paste": "Relink with tokens",
    "oa.refresh": "Refresh info",
    "oa.disconnect": "Disconnect",
    "oa.disconnect.confirm": "Disconnect the OA {name}? No message is sent or received through it.",
    "oa.info_error": "Could not read the OA from Zalo: {why}",
    "oa.linked": "Linked the OA {name}.",
    "oa.fail": "Linking the OA failed: {why}",
    "oa.fail.denied": "you (or the OA's admin) did not allow the app to manage the OA.",
    "oa.fail.state_unknown": "the link request is invalid or was already used; start again.",
    "oa.fail.state_expired": "the link request is older than 10 minutes; start again.",
    "oa.fail.exchange_failed": "Zalo gave no tokens ({code}: {detail}). Check the app ID, its secret and its Callback URL.",
    "oa.fail.other_oa": "you allowed a different OA from the one being relinked.",
    "oa.fail.oa_taken": "this OA is linked to another company.",
    "oa.fail.no_oa": "Zalo did not say which OA was allowed.",
  },
});

const screen = { container: null, ctx: null, links: new Map(), fresh: new Set(), departments: [], notice: null, open: null };

function owner() {
  return screen.ctx?.me?.role === "owner";
}

// -- events (console.js routes oa_link.* here) ------------------------------------------------------

export function applyOaLinkEvent(envelope, ctx = null) {
  if (envelope.type !== "oa_link.created" && envelope.type !== "oa_link.updated") return;
  if (ctx && ctx !== screen.ctx) {
    // Not mounted (yet) with this ctx: its list of links is kept current all the same.
    ctx.oaLinks = [...(ctx.oaLinks || []).filter((link) => link.id !== envelope.data.id), envelope.data];
  }
  screen.links.set(envelope.data.id, envelope.data);
  screen.fresh.add(envelope.data.id);
  syncCtx();
  render();
}

function syncCtx() {
  if (screen.ctx) screen.ctx.oaLinks = [...screen.links.values()];
}

// -- mounting -------------------------------------------------------------------------------------

export async function mountOaLinks(container, ctx) {
  // Mounted again in the same place (the console re-read its lists): the callback's outcome stays said.
  const kept = screen.container === container ? screen.notice : null;
  screen.container = container;
  screen.ctx = ctx;
  screen.links = new Map();
  for (const link of ctx.oaLinks || []) screen.links.set(link.id, link);
  screen.notice = outcomeFromUrl() ?? kept;
  screen.fresh = new Set();
  render();
  const [links, departments] = await Promise.all([
    api.get("/api/oa-links"),
    api.get("/api/departments").catch(() => ({ departments: [] })),
  ]);
  // A link an event described while this read was under way keeps the event's (newer) view.
  for (const link of links.oa_links) if (!screen.fresh.has(link.id)) screen.links.set(link.id, link);
  screen.departments = departments.departments || [];
  syncCtx();
  render();
}

onLangChange(() => render());

// The OAuth callback sends the browser back with ?oa_link=linked|failed&...: said once, then dropped
// from the address (the hash, the console's place, is kept).
function outcomeFromUrl() {
  const query = new URLSearchParams(location.search);
  const result = query.get("oa_link");
  if (!result) return null;
  history.replaceState(null, "", location.pathname + location.hash);
  if (result === "linked") return { ok: true, linkId: query.get("link_id") };
  return { ok: false, reason: query.get("reason") || "", code: query.get("zalo_error") || "", detail: query.get("detail") || "" };
}

function noticeText(notice) {
  if (notice.text) return notice.text;
  if (notice.ok) {
    const link = screen.links.get(notice.linkId);
    return t("oa.linked", { name: link ? displayName(link) : "" });
  }
  const why = t(`oa.fail.${notice.reason}`, { code: notice.code, detail: notice.detail });
  return t("oa.fail", { why: why.startsWith("oa.fail.") ? notice.reason : why });
}

// -- drawing --------------------------------------------------------------------------------------

function displayName(link) {
  return link.info?.name || link.name;
}

function render() {
  const root = screen.container;
  if (!root) return;
  const notice = screen.notice
    ? h("div", { class: screen.notice.ok ? "oa-notice ok" : "oa-notice error", role: "status" }, noticeText(screen.notice))
    : null;
  const actions = owner()
    ? h(
        "div",
        { class: "oa-actions" },
        h("button", { type: "button", class: "primary oa-link-start", onclick: () => toggle("oauth") }, t("oa.link")),
        h("button", { type: "button", class: "oa-paste-start", onclick: () => toggle("paste") }, t("oa.paste")),
      )
    : null;
  const links = [...screen.links.values()];
  replace(
    root,
    h(
      "section",
      { class: "oa-links" },
      h("header", { class: "oa-head" }, h("h2", {}, t("oa.title")), actions),
      notice,
      screen.open === "oauth" ? oauthForm() : null,
      screen.open === "paste" ? pasteForm() : null,
      links.length
        ? h("ul", { class: "oa-cards" }, links.map(card))
        : h("p", { class: "muted oa-empty" }, t("oa.empty")),
    ),
  );
}

function toggle(which) {
  screen.open = screen.open === which ? null : which;
  render();
}

function field(name, label, attrs = {}) {
  return h("label", { class: "oa-field" }, h("span", {}, label), h("input", { name, required: true, ...attrs }));
}

function departmentSelect(name, selected) {
  return h(
    "select",
    { name, class: "oa-department", "aria-label": t("oa.department") },
    option("", t("oa.department.none"), !selected),
    screen.departments.map((d) => option(d.id, d.name, d.id === selected)),
  );
}

function formError() {
  return h("p", { class: "error oa-form-error", hidden: true });
}

async function submitting(form, work) {
  const error = form.querySelector(".oa-form-error");
  const button = form.querySelector("button[type=submit]");
  error.hidden = true;
  button.disabled = true;
  try {
    await work(Object.fromEntries(new FormData(form).entries()));
  } catch (err) {
    error.textContent = screen.ctx.errorText(err);
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function oauthForm() {
  const form = h(
    "form",
    { class: "oa-form oa-oauth-form" },
    field("app_id", t("oa.app_id"), { autocomplete: "off" }),
    field("app_secret", t("oa.app_secret"), { type: "password", autocomplete: "off" }),
    field("oa_secret_key", t("oa.oa_secret_key"), { type: "password", autocomplete: "off", required: false }),
    h("label", { class: "oa-field" }, h("span", {}, t("oa.department")), departmentSelect("department_id", null)),
    formError(),
    h(
      "div",
      { class: "oa-form-buttons" },
      h("button", { type: "submit", class: "primary" }, t("oa.go")),
      h("button", { type: "button", onclick: () => toggle("oauth") }, t("oa.cancel")),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async (values) => {
      const body = { app_id: values.app_id.trim(), app_secret: values.app_secret.trim() };
      if (values.oa_secret_key) body.oa_secret_key = values.oa_secret_key.trim();
      if (values.department_id) body.department_id = values.department_id;
      const { url } = await api.post("/api/oa-links/oauth/start", body);
      location.assign(url); // Zalo's permission page; Zalo sends the browser back to the hub
    });
  });
  return form;
}

function pasteForm() {
  const form = h(
    "form",
    { class: "oa-form oa-paste-form" },
    field("name", t("oa.name")),
    field("app_id", t("oa.app_id")),
    field("oa_id", t("oa.oa_id")),
    field("oa_secret_key", t("oa.oa_secret_key"), { type: "password" }),
    field("app_secret", t("oa.app_secret"), { type: "password" }),
    field("access_token", t("oa.access_token")),
    field("refresh_token", t("oa.refresh_token")),
    h("label", { class: "oa-field" }, h("span", {}, t("oa.department")), departmentSelect("department_id", null)),
    formError(),
    h(
      "div",
      { class: "oa-form-buttons" },
      h("button", { type: "submit", class: "primary" }, t("oa.save")),
      h("button", { type: "button", onclick: () => toggle("paste") }, t("oa.cancel")),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async (values) => {
      const body = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.trim()]));
      if (!body.department_id) delete body.department_id;
      const link = await api.post("/api/oa-links", body);
      screen.links.set(link.id, link);
      screen.open = null;
      screen.notice = { ok: true, linkId: link.id };
      syncCtx();
      render();
    });
  });
  return form;
}

function statusOf(link) {
  if (link.status !== "active") return "disconnected";
  return link.refresh_lapsed ? "lapsed" : "active";
}

function card(link) {
  const info = link.info || {};
  const status = statusOf(link);
  const quality = link.quality ? t("oa.quality", { q: t(`oa.quality.${link.quality}`) }) : null;
  const qualityTitle = Object.entries(link.template_quality || {})
    .map(([template, q]) => `${template}: ${t(`oa.quality.${q}`)}`)
    .join("\n");
  return h(
    "li",
    { class: `oa-card ${status}`, dataset: { linkId: link.id } },
    h(
      "div",
      { class: "oa-card-head" },
      info.avatar ? h("img", { class: "oa-logo", src: info.avatar, alt: "" }) : h("span", { class: "oa-logo letter" }, displayName(link).slice(0, 1)),
      h(
        "div",
        {},
        h("h3", { class: "oa-name" }, displayName(link)),
        h(
          "div",
          { class: "muted" },
          info.num_follower != null ? h("span", { class: "oa-followers" }, t("oa.followers", { n: info.num_follower.toLocaleString(locale()) })) : null,
          info.is_verified != null ? h("span", { class: "oa-verified" }, " · ", t(info.is_verified ? "oa.verified" : "oa.unverified")) : null,
        ),
      ),
      h("span", { class: `badge oa-status ${status}` }, t(`oa.status.${status}`)),
    ),
    h(
      "dl",
      { class: "oa-facts" },
      h("dt", {}, t("oa.oa_id")), h("dd", { class: "oa-id" }, link.oa_id),
      h("dt", {}, t("oa.app_id")), h("dd", { class: "oa-app-id" }, link.app_id),
    ),
    link.token_expires_at && link.status === "active" ? h("p", { class: "oa-access" }, t("oa.access_expires", { when: fmt.dateTime(link.token_expires_at) })) : null,
    link.refresh_expires_at ? h("p", { class: "oa-refresh" }, t("oa.refresh_expires", { when: fmt.dateTime(link.refresh_expires_at) })) : null,
    link.refresh_warning ? h("p", { class: "oa-warning", role: "alert" }, t("oa.warning", { when: fmt.dateTime(link.refresh_expires_at) })) : null,
    link.refresh_lapsed ? h("p", { class: "oa-warning lapsed", role: "alert" }, t("oa.lapsed")) : null,
    info.package_name ? h("p", { class: "oa-package" }, t("oa.package", { name: info.package_name, until: info.package_valid_through || "—" })) : null,
    link.zns_daily_quota != null ? h("p", { class: "oa-zns-quota" }, t("oa.zns_quota", { n: link.zns_daily_quota })) : null,
    quality ? h("p", { class: `oa-quality ${link.quality}`, title: qualityTitle }, quality) : null,
    (link.quotas || []).length
      ? h(
          "ul",
          { class: "oa-allowances muted" },
          link.quotas.map((q) =>
            h("li", {}, t("oa.allowance", { product: q.product_type || "", type: q.quota_type || "", remain: q.remain ?? "?", total: q.total ?? "?", until: q.valid_through || "—" })),
          ),
        )
      : null,
    link.info_error ? h("p", { class: "error oa-info-error" }, t("oa.info_error", { why: link.info_error })) : null,
    webhookLine(link),
    owner() && !link.webhook_key_set ? keyForm(link) : null,
    h(
      "label",
      { class: "oa-field oa-routing" },
      h("span", {}, t("oa.department")),
      owner()
        ? routingSelect(link)
        : h("span", {}, screen.departments.find((d) => d.id === link.department_id)?.name || t("oa.department.none")),
    ),
    cardActions(link),
  );
}

function webhookLine(link) {
  const copy = h("button", { type: "button", class: "link oa-copy" }, t("oa.copy"));
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(link.webhook_url);
    } catch {
      // No clipboard permission: the address stays selectable on the card.
    }
    copy.textContent = t("oa.copied");
  });
  return h("p", { class: "oa-webhook" }, h("span", {}, t("oa.webhook")), " ", h("code", { class: "oa-webhook-url" }, link.webhook_url), " ", copy);
}

function routingSelect(link) {
  const select = departmentSelect("department_id", link.department_id);
  select.addEventListener("change", () => patch(link, { department_id: select.value || null }, select));
  return select;
}

function keyForm(link) {
  const form = h(
    "form",
    { class: "oa-key-form" },
    h("p", { class: "oa-warning" }, t("oa.key_missing")),
    h("input", { name: "oa_secret_key", type: "password", required: true, "aria-label": t("oa.oa_secret_key") }),
    h("button", { type: "submit" }, t("oa.save")),
    formError(),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, (values) => patch(link, { oa_secret_key: values.oa_secret_key.trim() }));
  });
  return form;
}

async function patch(link, body, control) {
  const updated = await call(() => api.patch(`/api/oa-links/${link.id}`, body), control);
  if (updated) update(updated);
}

function update(link) {
  screen.links.set(link.id, link);
  syncCtx();
  render();
}

// A refused action is said on the card, in the person's language.
async function call(work, control) {
  try {
    return await work();
  } catch (err) {
    const where = control?.closest?.(".oa-card") || screen.container;
    const error = where.querySelector(".oa-card-error") || where.appendChild(h("p", { class: "error oa-card-error" }));
    error.textContent = screen.ctx.errorText(err);
    return null;
  }
}

function cardActions(link) {
  const buttons = [];
  const relinkPaste = h("form", { class: "oa-relink-form", hidden: true });
  if (owner()) {
    buttons.push(
      h("button", {
        type: "button",
        class: "primary oa-relink",
        onclick: async (event) => {
          const answer = await call(() => api.post(`/api/oa-links/${link.id}/oauth/start`, {}), event.target);
          if (answer) location.assign(answer.url);
        },
      }, t("oa.relink")),
      h("button", { type: "button", class: "oa-relink-paste", onclick: () => (relinkPaste.hidden = !relinkPaste.hidden) }, t("oa.relink_paste")),
    );
  }
  if (link.status === "active") {
    buttons.push(
      h("button", {
        type: "button",
        class: "oa-refresh-info",
        onclick: async (event) => {
          const updated = await call(() => api.post(`/api/oa-links/${link.id}/refresh`, {}), event.target);
          if (updated) update(updated);
        },
      }, t("oa.refresh")),
    );
    if (owner()) {
      buttons.push(
        h("button", {
          type: "button",
          class: "oa-disconnect",
          onclick: async (event) => {
            if (!confirm(t("oa.disconnect.confirm", { name: displayName(link) }))) return;
            const updated = await call(() => api.delete(`/api/oa-links/${link.id}`), event.target);
            if (updated) update(updated);
          },
        }, t("oa.disconnect")),
      );
    }
  }
  if (owner()) {
    relinkPaste.append(
      field("access_token", t("oa.access_token")),
      field("refresh_token", t("oa.refresh_token")),
      formError(),
      h("button", { type: "submit" }, t("oa.save")),
    );
    relinkPaste.addEventListener("submit", (event) => {
      event.preventDefault();
      submitting(relinkPaste, async (values) => {
        update(await api.post(`/api/oa-links/${link.id}/relink`, { access_token: values.access_token.trim(), refresh_token: values.refresh_token.trim() }));
      });
    });
  }
  return h("div", { class: "oa-card-actions" }, buttons, owner() ? relinkPaste : null);
}
