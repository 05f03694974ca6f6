// Building the page from data. Text always goes in as text (never as HTML): chat content is the customer's.

// Links and media come from Zalo payloads: only web and phone addresses are ever put in the page
// (never javascript:, vbscript:, or data: beyond the empty placeholder image).
const URL_ATTRS = new Set(["href", "src", "poster"]);
const URL_SCHEMES = new Set(["http:", "https:", "tel:"]);

export function safeUrl(value) {
  const text = String(value);
  if (text === "data:,") return text;
  try {
    return URL_SCHEMES.has(new URL(text, location.href).protocol) ? text : null;
  } catch {
    return null;
  }
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (URL_ATTRS.has(key)) {
      const url = safeUrl(value);
      if (url !== null) el.setAttribute(key, url);
    } else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (selector, root = document) => root.querySelector(selector);

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export function option(value, label, selected = false) {
  return h("option", { value, selected }, label);
}
