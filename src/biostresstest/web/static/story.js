// Kaartverhalen: the story of the current layer in a modal dialog, one click from the map.
import { esc, layerTitle, state, t } from "./i18n.js";

const dialog = () => document.getElementById("story-dialog");

export function renderStory(layer) {
  const story = state.stories[layer];
  const title = document.getElementById("story-title");
  const body = document.getElementById("story-body");
  if (!story) {
    title.textContent = layerTitle(layer);
    body.innerHTML = `<p>${esc(t("noData"))}</p>`;
    return;
  }
  const s = story[state.lang];
  title.textContent = s.title;
  body.innerHTML = `
    <h3>${esc(t("storyShows"))}</h3><p>${esc(s.shows)}</p>
    <h3>${esc(t("storyMethod"))}</h3><p>${esc(s.method)}</p>
    <h3>${esc(t("storySources"))}</h3><ul>${s.sources.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>
    <h3>${esc(t("storyUncertainty"))}</h3><p>${esc(s.uncertainty)}</p>
    <h3>${esc(t("storyActions"))}</h3>
    <dl class="actions">
      <dt>${esc(t("actGemeente"))}</dt><dd>${esc(s.actions.gemeente)}</dd>
      <dt>${esc(t("actBedrijf"))}</dt><dd>${esc(s.actions.bedrijf)}</dd>
      <dt>${esc(t("actBewoner"))}</dt><dd>${esc(s.actions.bewoner)}</dd>
    </dl>`;
}

export function setUpStory() {
  const opener = document.getElementById("story-open");
  opener.addEventListener("click", () => openStory(state.layer));
  dialog().addEventListener("close", () => {
    state.viewName = state.comparisonOpen ? "comparison" : "map";
    opener.focus();
  });
}

export function openStory(layer) {
  renderStory(layer);
  state.viewName = "story";
  dialog().showModal();
  document.getElementById("story-title").setAttribute("tabindex", "-1");
  document.getElementById("story-title").focus();
}
