// The feedback control: who you are, how clear it was (1–5), a comment; sent with the view,
// layer and area it is about. Mounted in the panel and in the story dialog.
import { esc, state, t } from "./i18n.js";

const ROLES = ["bewoner", "bedrijf", "agrarier", "beleidsmaker", "bestuurder"];

export function mountFeedback(container, prefix, viewOf) {
  container.innerHTML = `
    <form class="feedback-form" novalidate>
      <label for="${prefix}-role" data-i18n="role">${esc(t("role"))}</label>
      <select id="${prefix}-role" name="role" class="utrecht-select">
        ${ROLES.map((r) => `<option value="${r}" data-i18n="role_${r}">${esc(t(`role_${r}`))}</option>`).join("")}
      </select>
      <fieldset class="clarity utrecht-form-fieldset">
        <legend data-i18n="clarity">${esc(t("clarity"))}</legend>
        ${[1, 2, 3, 4, 5].map((n) => `<label><input type="radio" name="clarity" value="${n}"> ${n}</label>`).join("")}
      </fieldset>
      <label for="${prefix}-comment" data-i18n="comment">${esc(t("comment"))}</label>
      <textarea id="${prefix}-comment" name="comment" class="utrecht-textarea" maxlength="1000" rows="2"></textarea>
      <button type="submit" class="utrecht-button utrecht-button--primary-action" data-i18n="send">${esc(t("send"))}</button>
      <p class="status" role="status"></p>
    </form>`;
  const form = container.querySelector("form");
  const status = form.querySelector(".status");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const clarity = form.querySelector("input[name=clarity]:checked");
    if (!clarity) {
      status.textContent = t("pickClarity");
      form.querySelector("input[name=clarity]").focus();
      return;
    }
    const body = {
      role: form.querySelector("select").value,
      view: viewOf(),
      clarity: Number(clarity.value),
      layer: state.layer,
      area: state.current ? state.current.code : "",
      comment: form.querySelector("textarea").value.slice(0, 1000),
      lang: state.lang,
    };
    const answer = await fetch("/api/feedback", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    if (answer.ok) {
      status.textContent = t("thanks");
      form.querySelector("textarea").value = "";
      clarity.checked = false;
    } else {
      const problem = await answer.json().catch(() => ({}));
      status.textContent = `${t("sendFailed")}: ${problem.message || answer.status}`;
    }
  });
}
