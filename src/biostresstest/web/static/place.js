// "Mijn plek": the card of one spot (an address, a street or a click on the map). The class and
// the potential of the spot and of its buurt, the three measures that fit best with their effect
// and cost, in plain words; "show on map" switches between three layers only; print or PDF.
import * as maplibregl from "maplibre-gl";
import { esc, num, state, t, textOn } from "./i18n.js";

const MAP_LAYERS = ["score", "potential", "opportunity"]; // at most three layers on the card
const FOCUS_TYPES = new Set(["weg", "adres", "straat", "postcode"]);
let last = null; // { x, y, crs, name } of the card shown, to re-read it in another language
let answer = null; // the last /api/place answer (tests and the print page read it)
let asked = 0; // a newer request wins over a slower older one
let marker = null; // where the card is about, on the map

// Class 1..7 of a score, counted bound by bound like analysis.scoring.score_class.
export function classOf(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return 0;
  return 1 + state.legend.classes.slice(1).filter((c) => Number(value) >= c.lower).length;
}

function classCell(klass, value) {
  const c = state.legend.classes.find((k) => k.value === klass);
  if (!c) return `<td>${esc(t("placeNoClass"))}</td>`;
  const label = state.lang === "nl" ? c.label_nl : c.label_en;
  const score = value === null || value === undefined ? "" : ` <small>(${esc(t("score").toLowerCase())} ${num(value)})</small>`;
  return `<td data-class="${klass}"><span class="swatch" style="background:${c.colour};color:${textOn(c.colour)}" aria-hidden="true">${klass}</span> ` +
    `<span class="class-label">${esc(t("cls").toLowerCase())} ${klass}: ${esc(label)}</span>${score}</td>`;
}

function euro(range) {
  if (!range) return t("placeCostUnknown");
  const f = (v) => Number(v).toLocaleString(state.lang === "nl" ? "nl-NL" : "en-GB", { maximumFractionDigits: 0 });
  return `€ ${f(range[0])} – € ${f(range[1])}`;
}

function measureItem(m) {
  const years = m.years_to_effect === null || m.years_to_effect === undefined ? "" :
    `<li>${esc(t("placeYears").replace("{n}", m.years_to_effect))}</li>`;
  return `<li class="place-measure" data-key="${esc(m.key)}">
      <strong>${esc(m.name)}</strong>
      <p>${esc(m.description || "")}</p>
      <ul>
        <li>${esc(t("placeEffect"))}: ${esc(m.effect)}</li>
        <li>${esc(t("placeCost"))}: ${esc(euro(m.cost_eur))}${m.cost_partial ? ` (${esc(t("placeCostPartial"))})` : ""}</li>
        ${years}
        <li>${esc(t("placeWhy"))}: ${esc(m.reason)}</li>
      </ul>
    </li>`;
}

function layerSwitch() {
  const offered = MAP_LAYERS.filter((id) => document.querySelector(`#layer-switcher input[value="${id}"]`));
  if (offered.length < 2) return "";
  return `<fieldset class="utrecht-form-fieldset place-layers">
      <legend>${esc(t("placeShowOnMap"))}</legend>
      ${offered.map((id) => `<label><input type="radio" name="place-layer" value="${id}"${state.layer === id ? " checked" : ""}> ${esc(t(`placeLayer_${id}`))}</label>`).join("")}
    </fieldset>`;
}

function render(a, name) {
  const spot = a.spot;
  const buurt = a.buurt || {};
  const unit = a.buurt_values || {};
  const spotPotential = classOf(spot.potential);
  const buurtPotential = classOf(unit.potential);
  const report = `/api/report?x=${encodeURIComponent(a.x)}&y=${encodeURIComponent(a.y)}&lang=${state.lang}`;
  const where = name ? `${esc(name)} · ` : "";
  return `
    <p class="place-where">${where}<span class="place-rd">RD ${num(a.x, 0)}, ${num(a.y, 0)}</span>${buurt.name ? ` · ${esc(buurt.name)} (${esc(buurt.code)})` : ""}</p>
    <p class="place-text">${esc(a.text)}</p>
    <table class="values place-table">
      <caption class="visually-hidden">${esc(t("placeTableCaption"))}</caption>
      <thead><tr><td></td><th scope="col">${esc(t("placeSpot"))}</th><th scope="col">${esc(buurt.level === "gebied" ? t("placeArea") : t("placeBuurt"))}</th></tr></thead>
      <tbody>
        <tr class="place-now"><th scope="row">${esc(t("placeNow"))}</th>${classCell(spot.score_class, spot.score)}${classCell(buurt.score_class, unit.score)}</tr>
        <tr class="place-potential"><th scope="row">${esc(t("placePotential"))}</th>${classCell(spotPotential, spot.potential)}${classCell(buurtPotential, unit.potential)}</tr>
      </tbody>
    </table>
    <p class="note">${esc(t("placeLandcover"))}: ${esc(spot.landcover_name || "–")}. ${esc(t("placePotentialNote"))}</p>
    <h3>${esc(t("placeMeasures"))}</h3>
    ${a.measures.length ? `<ol class="place-measures">${a.measures.map(measureItem).join("")}</ol>` : `<p>${esc(t("placeNoMeasures"))}</p>`}
    ${layerSwitch()}
    <div class="place-actions">
      <button type="button" class="utrecht-button utrecht-button--secondary-action" data-action="print">${esc(t("placePrint"))}</button>
      <a class="utrecht-link" href="${report}" target="_blank" rel="noopener">${esc(t("placePdf"))}</a>
      <button type="button" class="utrecht-button utrecht-button--subtle" data-action="close">${esc(t("close"))}</button>
    </div>`;
}

// Open the card for a point: lon/lat from the map (crs EPSG:4326) or RD from the search.
// ``at`` is [lon, lat] for the marker (the point itself when crs is EPSG:4326).
export async function openPlace(x, y, crs = "EPSG:4326", name = "", focus = false, at = null) {
  const slot = window.bst.slots.place;
  const ticket = ++asked;
  last = { x, y, crs, name, at };
  const spot = at || (crs === "EPSG:4326" ? [x, y] : null);
  if (marker) marker.remove();
  marker = spot ? new maplibregl.Marker({ color: "#000" }).setLngLat(spot).addTo(window.bst.map) : null;
  if (marker) marker.getElement().setAttribute("aria-hidden", "true");
  state.viewName = "place";
  const started = performance.now();
  slot.show(`<p role="status">${esc(t("placeLoading"))}</p>`);
  const reply = await fetch(`/api/place?x=${encodeURIComponent(x)}&y=${encodeURIComponent(y)}&crs=${encodeURIComponent(crs)}&lang=${state.lang}`).catch(() => null);
  const a = reply ? await reply.json().catch(() => null) : null;
  if (!reply || !reply.ok || !a) {
    if (ticket !== asked) return;
    answer = null;
    const detail = a && a.message ? ` <small>(${esc(a.message)})</small>` : "";
    slot.show(`<p role="status" class="place-error">${esc(t("placeOutside"))}${detail}</p>
      <button type="button" class="utrecht-button utrecht-button--subtle" data-action="close">${esc(t("close"))}</button>`);
    wire(slot.element);
    return;
  }
  if (ticket !== asked) return;
  answer = a;
  slot.show(render(a, name));
  slot.element.dataset.ms = String(Math.round(performance.now() - started));
  wire(slot.element);
  document.getElementById("place-live").textContent = `${t("myPlace")}: ${a.spot.score_label} (${t("cls").toLowerCase()} ${a.spot.score_class})`;
  slot.element.scrollIntoView({ block: "nearest" });
  if (focus) document.getElementById("my-place-title").focus();
}

function wire(element) {
  for (const input of element.querySelectorAll("input[name=place-layer]")) {
    input.addEventListener("change", () => {
      const target = document.querySelector(`#layer-switcher input[value="${input.value}"]`);
      if (target && !target.checked) target.click();
    });
  }
  const print = element.querySelector("[data-action=print]");
  if (print) print.addEventListener("click", () => window.print());
  element.querySelector("[data-action=close]").addEventListener("click", closePlace);
}

export function closePlace() {
  window.bst.slots.place.hide();
  if (marker) marker.remove();
  marker = null;
  last = null;
  answer = null;
  if (state.viewName === "place") state.viewName = "map";
  document.getElementById("place-centre").focus();
}

export function setUpPlace() {
  const { map, slots } = window.bst;
  const title = document.getElementById("my-place-title");
  title.setAttribute("tabindex", "-1");
  // A live line for screen readers, and a keyboard way in: the spot in the centre of the map.
  const section = slots.place.element;
  section.insertAdjacentHTML("beforebegin",
    `<p id="place-live" class="visually-hidden" aria-live="polite"></p>
     <p class="place-open"><button id="place-centre" type="button" class="utrecht-button utrecht-button--secondary-action">${esc(t("placeCentre"))}</button></p>`);
  document.getElementById("place-centre").addEventListener("click", () => {
    const c = map.getCenter();
    openPlace(c.lng, c.lat, "EPSG:4326", t("placeCentreName"), true);
  });
  map.on("click", (e) => {
    if (state.drawing || !state.current) return;
    openPlace(e.lngLat.lng, e.lngLat.lat, "EPSG:4326", "", false);
  });
  document.addEventListener("bst:place-chosen", (e) => {
    const p = e.detail;
    if (["gemeente", "wijk", "gebied"].includes(p.type)) return;
    openPlace(p.x, p.y, "EPSG:28992", p.name, FOCUS_TYPES.has(p.type), [p.lon, p.lat]);
  });
  document.getElementById("lang").addEventListener("click", () => {
    document.getElementById("place-centre").textContent = t("placeCentre");
    if (last && !slots.place.element.hidden) openPlace(last.x, last.y, last.crs, last.name, false, last.at);
  });
  // Keep the card's layer choice in step with the panel's layer switcher.
  document.getElementById("layer-switcher").addEventListener("change", () => {
    for (const input of document.querySelectorAll("input[name=place-layer]")) input.checked = input.value === state.layer;
  });
  window.bst.place = { open: openPlace, close: closePlace, answer: () => answer };
}
