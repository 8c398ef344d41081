// The preference centre's pages (index.html, confirm.html, unsubscribe.html): one module, no
// dependencies, no build step. Each page says which it is in <body data-page>.
//
// Tokens arrive in the address's fragment (#token=..., #signup=...): a browser never sends the
// fragment to a server, so no access log, proxy or Referer holds it. This module reads it and
// posts it in a JSON body to the public routes, on the page's own origin (locally the gateway,
// deployed CloudFront in front of API Gateway): no CORS, no third party.

const STATES = {
  GRANTED: "Subscribed",
  PENDING: "Pending confirmation",
  REVOKED: "Unsubscribed",
};
const NOT_SUBSCRIBED = "Not subscribed";

// Who made the last change, in the customer's words (functions/consents/rules.py's sources).
const SOURCES = {
  "preference-centre": "you, on this page",
  "double-opt-in": "your e-mail confirmation",
  crm: "our customer service",
  import: "our records",
  gpc: "your browser's opt-out preference signal",
  unsubscribe: "an unsubscribe link",
};

const CHANNELS = { email: "e-mail", sms: "text message", push: "app notification" };

const dates = new Intl.DateTimeFormat("en-GB", { dateStyle: "long" });
const times = new Intl.DateTimeFormat("en-GB", { dateStyle: "long", timeStyle: "short" });

const $ = (id) => document.getElementById(id);

function say(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function fragment(name) {
  const value = new URLSearchParams(location.hash.slice(1)).get(name);
  return value && value.length >= 32 ? value : null;
}

function humanise(name) {
  const text = String(name).replace(/[-_]+/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
  }
}

async function post(path, body, { form = false } = {}) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": form ? "application/x-www-form-urlencoded" : "application/json" },
    body: form ? body : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

async function get(path) {
  const response = await fetch(path, { credentials: "omit", cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, null);
  return response.json();
}

// What went wrong, in words that say what to do next (no server text: it is for developers).
function failure(error, linkKind = "link") {
  if (!(error instanceof ApiError)) return "We could not reach the server. Please try again.";
  if (error.status === 404) {
    return `This ${linkKind} is not valid or has expired. Ask for a new one below.`;
  }
  if (error.status === 409) return `This ${linkKind} has already been used or has expired.`;
  if (error.status === 429) return "Too many requests. Please wait a minute and try again.";
  if (error.status === 400) return "Please check what you entered and try again.";
  return "Something went wrong on our side. Please try again later.";
}

// A button stays where it is while its request runs, but cannot be pressed twice.
async function busy(button, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function checkedEmail(input) {
  const value = input.value.trim();
  if (!value || !input.checkValidity()) {
    input.setAttribute("aria-invalid", "true");
    say("Please enter a valid e-mail address.", "error");
    input.focus();
    return null;
  }
  input.removeAttribute("aria-invalid");
  return value;
}

// ---- index.html without a token: ask for a link, or sign up ----

function requestLinkForm() {
  const form = $("link-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = checkedEmail($("link-email"));
    if (!email) return;
    await busy(form.querySelector("button"), async () => {
      say("Sending…");
      try {
        await post("/public/preferences/link", { email });
        // The same words whoever the address belongs to: the page reveals nothing.
        say(
          "Thank you. If this address is one we send messages to, a link to your " +
            "subscriptions is on its way. Check your e-mail.",
          "success",
        );
      } catch (error) {
        say(failure(error), "error");
      }
    });
  });
}

function topicChoices(catalogue) {
  const choices = (catalogue.topics || []).map((topic) => ({ topic: topicName(topic) }));
  for (const [brand, topics] of Object.entries(catalogue.brands || {})) {
    for (const topic of topics) choices.push({ topic: topicName(topic), brand });
  }
  return choices;
}

function topicName(topic) {
  return typeof topic === "string" ? topic : topic.topic;
}

async function signUpForm() {
  const form = $("signup-form");
  const fieldset = $("signup-topics");
  let choices = [];
  try {
    choices = topicChoices(await get("/public/topics"));
  } catch {
    choices = [];
  }
  $("signup-topics-loading").remove();
  if (!choices.length) {
    const note = document.createElement("p");
    note.textContent = "Sign-up is not available right now.";
    fieldset.append(note);
    form.querySelector("button").disabled = true;
    return;
  }
  choices.forEach((choice, index) => {
    const id = `signup-choice-${index}`;
    const row = document.createElement("div");
    row.className = "choice";
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "choice", id, value: String(index) });
    input.required = true;
    if (index === 0) input.checked = true;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = choice.brand
      ? `${humanise(choice.topic)} from ${humanise(choice.brand)}`
      : humanise(choice.topic);
    row.append(input, label);
    fieldset.append(row);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = checkedEmail($("signup-email"));
    if (!email) return;
    const picked = form.querySelector("input[name=choice]:checked");
    if (!picked) {
      say("Please choose what you would like to receive.", "error");
      return;
    }
    const choice = choices[Number(picked.value)];
    const body = { email, topic: choice.topic };
    if (choice.brand) body.brand = choice.brand;
    await busy(form.querySelector("button[type=submit]"), async () => {
      say("Sending…");
      try {
        await post("/public/signup", body);
        say(
          "Thank you. Check your e-mail: the subscription starts when you confirm it with " +
            "the link we sent.",
          "success",
        );
      } catch (error) {
        say(failure(error), "error");
      }
    });
  });
}

// ---- index.html#token=...: every subscription, grouped by brand ----

function groupByBrand(preferences) {
  const groups = new Map([[null, []]]); // brand-less "General" first
  for (const item of preferences) {
    const brand = item.brand || null;
    if (!groups.has(brand)) groups.set(brand, []);
    groups.get(brand).push(item);
  }
  if (!groups.get(null).length) groups.delete(null);
  return groups;
}

function describe(item) {
  const state = STATES[item.status] || NOT_SUBSCRIBED;
  if (!item.at) return state;
  const who = SOURCES[item.source] || item.source || "unknown";
  return `${state} · last changed ${dates.format(new Date(item.at))} by ${who}`;
}

function subscribed(item) {
  return item.status === "GRANTED" || item.status === "PENDING";
}

function renderPreferences(token, answer) {
  $("gpc").hidden = !answer.gpcHonoured;
  $("expires").textContent = answer.expiresAt
    ? `This link works until ${times.format(new Date(answer.expiresAt))}.`
    : "";
  const container = $("groups");
  container.replaceChildren();
  for (const [brand, items] of groupByBrand(answer.preferences || [])) {
    const heading = document.createElement("h3");
    heading.textContent = brand ? humanise(brand) : "General";
    const list = document.createElement("ul");
    list.className = "topics";
    for (const item of items) list.append(preferenceRow(token, item));
    container.append(heading, list);
  }
}

function preferenceRow(token, item) {
  const row = document.createElement("li");
  row.className = "topic";
  row.dataset.topic = item.topic;
  row.dataset.channel = item.channel;
  if (item.brand) row.dataset.brand = item.brand;
  const title = document.createElement("p");
  title.className = "topic-name";
  const channel = CHANNELS[item.channel] || item.channel;
  title.textContent = `${humanise(item.topic)} by ${channel}`;
  const state = document.createElement("p");
  state.className = "topic-state";
  state.dataset.status = item.status || "NONE";
  state.textContent = describe(item);
  const button = document.createElement("button");
  button.type = "button";
  const on = subscribed(item);
  const what = `${humanise(item.topic)} by ${channel}${item.brand ? ` from ${humanise(item.brand)}` : ""}`;
  button.textContent = on ? "Unsubscribe" : "Subscribe";
  // The visible word alone is ambiguous in a list: the accessible name says which topic.
  button.setAttribute("aria-label", `${on ? "Unsubscribe from" : "Subscribe to"} ${what}`);
  button.className = on ? "secondary" : "";
  button.addEventListener("click", () =>
    busy(button, async () => {
      const body = { token, topic: item.topic, channel: item.channel, granted: !on };
      if (item.brand) body.brand = item.brand;
      try {
        const changed = await post("/public/preferences/change", body);
        const next = { ...item, status: changed.status, at: changed.at, source: changed.source };
        const replacement = preferenceRow(token, next);
        row.replaceWith(replacement);
        replacement.querySelector("button").focus();
        say(
          changed.status === "PENDING"
            ? `${what}: pending confirmation — check your e-mail.`
            : `${what}: ${STATES[changed.status] || NOT_SUBSCRIBED}.`,
          "success",
        );
      } catch (error) {
        say(failure(error), "error");
      }
    }),
  );
  row.append(title, state, button);
  return row;
}

async function preferencesPage(token) {
  $("request").hidden = true;
  $("signup").hidden = true;
  say("Loading your subscriptions…");
  let answer;
  try {
    answer = await post("/public/preferences", { token });
  } catch (error) {
    say(failure(error), "error");
    $("request").hidden = false;
    requestLinkForm();
    return;
  }
  $("preferences").hidden = false;
  renderPreferences(token, answer);
  say(answer.gpcHonoured ? "Your subscriptions. Opt-out preference signal honored." : "");
  const everything = $("unsubscribe-all");
  everything.addEventListener("click", () =>
    busy(everything, async () => {
      try {
        renderPreferences(token, await post("/public/preferences/unsubscribe-all", { token }));
        say("You are unsubscribed from everything.", "success");
      } catch (error) {
        say(failure(error), "error");
      }
    }),
  );
}

// ---- confirm.html#token=... (double opt-in) and #signup=... (sign-up) ----

function confirmPage() {
  const consent = fragment("token");
  const signup = fragment("signup");
  const token = consent || signup;
  if (!token) {
    say("This page needs the link from your confirmation e-mail.", "error");
    return;
  }
  $("confirm").hidden = false;
  const button = $("confirm-button");
  if (signup) button.textContent = "Confirm my sign-up";
  button.addEventListener("click", () =>
    busy(button, async () => {
      try {
        const answer = signup
          ? await post("/public/signup/confirm", { token })
          : await post("/public/consents/confirm", { token });
        const topic = answer && answer.topic ? ` to ${humanise(answer.topic)}` : "";
        $("confirm").hidden = true;
        say(`Thank you: your subscription${topic} is confirmed.`, "success");
      } catch (error) {
        say(failure(error, "confirmation link"), "error");
      }
    }),
  );
}

// ---- unsubscribe.html#token=...: where GET of a List-Unsubscribe URL lands ----

function unsubscribePage() {
  const token = fragment("token");
  if (!token) {
    say("This page needs the unsubscribe link from one of our e-mails.", "error");
    return;
  }
  $("unsubscribe").hidden = false;
  const button = $("unsubscribe-button");
  button.addEventListener("click", () =>
    busy(button, async () => {
      try {
        // RFC 8058's one-click request, as a mail client sends it: the token in the query (the
        // body is fixed by the RFC), the body form-encoded.
        const query = new URLSearchParams({ token });
        await post(`/public/unsubscribe?${query}`, "List-Unsubscribe=One-Click", { form: true });
        $("unsubscribe").hidden = true;
        say("You are unsubscribed. You will not receive these messages any more.", "success");
      } catch (error) {
        say(failure(error, "unsubscribe link"), "error");
      }
    }),
  );
}

function start() {
  const page = document.body.dataset.page;
  if (page === "confirm") return confirmPage();
  if (page === "unsubscribe") return unsubscribePage();
  const token = fragment("token");
  if (token) return preferencesPage(token);
  requestLinkForm();
  return signUpForm();
}

start();
// A new link opened in the same tab changes only the fragment: start over with it.
window.addEventListener("hashchange", () => location.reload());
