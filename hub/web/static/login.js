// The login page: phone and password, then a company when the account belongs to several.
import { api, ApiError, saveSession, session } from "./api.js";
import { $, h, replace } from "./dom.js";
import { applyI18n, langButton, say, t } from "./i18n.js";

applyI18n();
langButton($("#lang"));

if (session()?.token) location.replace("/console");
const reason = new URLSearchParams(location.search).get("reason");
if (["expired", "removed", "password_changed"].includes(reason)) {
  say($("#login-note"), () => t(`login.${reason}`));
  $("#login-note").hidden = false;
}

async function logIn(companyCode) {
  const error = $("#login-error");
  error.hidden = true;
  try {
    const result = await api.post("/api/auth/login", {
      phone: $("#phone").value.trim(), password: $("#password").value, company_code: companyCode ?? null,
    });
    if (result.token) {
      saveSession({ token: result.token, member: result.member });
      location.assign("/console");
      return;
    }
    $("#companies").hidden = false;
    replace($("#company-list"), result.companies.map((company) =>
      h("button", { type: "button", class: "company", dataset: { code: company.code }, onclick: () => logIn(company.code) },
        h("strong", {}, company.name), " ", h("span", { class: "muted" }, t(`role.${company.role}`)))));
  } catch (err) {
    say(error, () => (err instanceof ApiError && err.status === 401 ? t("login.failed")
      : err.status === 429 ? t("login.locked", { seconds: err.details.retry_after_s })
        : err.code === "network" ? t("error.network") : t("error.generic", { message: err.message })));
    error.hidden = false;
  }
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  logIn();
});
