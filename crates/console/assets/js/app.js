// The console's shell: sign-in, the navigation (what the caller's roles reach), and the hash
// router that hands each page its part of the URL (`#/logs?model=gpt-4o`).

import { api, ApiError, signIn, signOut, token } from "./api.js";
import { h, put, notice } from "./dom.js";
import * as overview from "./pages/overview.js";
import * as logs from "./pages/logs.js";
import * as keys from "./pages/keys.js";
import * as limits from "./pages/limits.js";
import * as guardrails from "./pages/guardrails.js";
import * as routes from "./pages/routes.js";
import * as cache from "./pages/cache.js";
import * as playground from "./pages/playground.js";
import * as prompts from "./pages/prompts.js";
import * as experiments from "./pages/experiments.js";
import * as runs from "./pages/runs.js";

/** Pages in navigation order; `org` pages need an organisation admin, `member` pages a member's
 *  role in some workspace (the API says so too). */
const PAGES = [
  { path: "/", title: "Overview", page: overview, org: true },
  { path: "/logs", title: "Logs", page: logs, org: true },
  { path: "/playground", title: "Playground", page: playground, member: true },
  { path: "/prompts", title: "Prompts", page: prompts },
  { path: "/experiments", title: "Experiments", page: experiments },
  { path: "/runs", title: "Runs", page: runs },
  { path: "/keys", title: "Keys", page: keys },
  { path: "/limits", title: "Limits", page: limits },
  { path: "/guardrails", title: "Guardrails", page: guardrails },
  { path: "/routes", title: "Routes", page: routes, org: true },
  { path: "/cache", title: "Cache", page: cache, org: true },
];

let me = null;
let current = null;
/** Whether the gateway offers sign-in through an identity provider (`/ui/oidc/config`). */
let oidc = false;

function route() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, q] = raw.split("?");
  return { path: path || "/", params: new URLSearchParams(q || "") };
}

/** Moves to `path` with `params` (a page's filters live in the URL). */
export function go(path, params) {
  const q = params && [...params].length ? `?${params}` : "";
  const next = `#${path}${q}`;
  if (location.hash !== next) location.hash = next;
  else render();
}

function signInForm(message) {
  const input = h("input", {
    id: "token", type: "password", autocomplete: "current-password", required: true,
    "aria-describedby": "token-help",
  });
  const form = h("form", { class: "card signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", { id: "token-help" },
      "An admin key (server.admin_keys, or one made for your user), or a token from your identity provider."),
    h("label", { for: "token" }, "Admin key or token"),
    input,
    message ? h("p", { class: "notice error", role: "alert" }, message) : null,
    h("button", { type: "submit" }, "Sign in"),
    oidc ? h("p", { class: "or" }, "or") : null,
    oidc ? h("a", { class: "button", href: "/ui/oidc/login", id: "oidc-signin" },
      "Sign in with your identity provider") : null);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    signIn(input.value);
    start();
  });
  put(document.getElementById("nav"));
  put(document.getElementById("who"));
  put(document.getElementById("main"), form);
  input.focus();
}

/** The pages the caller's roles reach. */
function reachable() {
  const member = me.org_admin || Object.values(me.workspaces).some((r) => r === "member" || r === "admin");
  return PAGES.filter((p) => (!p.org || me.org_admin) && (!p.member || member));
}

function nav() {
  const { path } = route();
  const links = reachable().map((p) =>
    h("a", { href: `#${p.path}`, "aria-current": p.path === path ? "page" : undefined }, p.title));
  put(document.getElementById("nav"), links);
  put(document.getElementById("who"),
    h("span", { class: "actor" }, me.actor),
    h("button", { type: "button", class: "link", onclick: () => { signOut(); me = null; start(); } }, "Sign out"));
}

async function render() {
  if (!me) return;
  nav();
  const { path, params } = route();
  const reach = reachable();
  // The home page is the first one the caller's role reaches.
  if (path === "/" && !reach.some((p) => p.path === "/") && reach.length) {
    go(reach[0].path);
    return;
  }
  const found = reach.find((p) => p.path === path);
  // Each render draws into a view of its own: one still loading when the URL changes again
  // finishes into a view no longer in the page, and cannot overwrite the newer one.
  const main = h("div", { class: "view" });
  put(document.getElementById("main"), main);
  if (current && current.leave) current.leave();
  current = null;
  notice("");
  if (!found) {
    put(main, h("h1", {}, "Not found"), h("p", {}, "There is no such page, or your role does not reach it."));
    return;
  }
  document.title = `${found.title} · Switchyard console`;
  current = found.page;
  try {
    await found.page.show(main, params, { me, go: (p) => go(path, p) });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      signOut();
      me = null;
      signInForm(e.message);
      return;
    }
    put(main, h("h1", {}, found.title), h("p", { class: "notice error", role: "alert" }, e.message));
  }
}

/** Asks once whether sign-in through the identity provider is offered. */
async function oidcOffered() {
  try {
    const r = await fetch("/ui/oidc/config");
    return r.ok && (await r.json()).enabled === true;
  } catch {
    return false;
  }
}

async function start() {
  // The gateway's OpenID Connect sign-in hands the token over in the fragment (`#token=...`,
  // never sent to a server), or says why it failed (`#signin_error=...`).
  const m = location.hash.match(/^#token=([^&]+)/);
  const failed = location.hash.match(/^#signin_error=([^&]*)/);
  if (m || failed) history.replaceState(null, "", location.pathname);
  if (m) signIn(decodeURIComponent(m[1]));
  oidc = await oidcOffered();
  if (!token()) {
    signInForm(failed ? decodeURIComponent(failed[1].replace(/\+/g, " ")) : undefined);
    return;
  }
  try {
    me = await api("/me");
  } catch (e) {
    signOut();
    signInForm(e instanceof ApiError ? e.message : String(e));
    return;
  }
  render();
}

window.addEventListener("hashchange", render);
start();
