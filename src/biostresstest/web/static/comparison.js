// The municipal view: all buurten (or wijken) of the gemeente in a sortable table and a bar
// chart of the score or the component the table is sorted on. Plain SVG, no chart library.
import { esc, fill, getJSON, layerTitle, num, state, t, textOn } from "./i18n.js";

const METRICS = ["score", "habitat_quality", "baf", "distance_to_core", "green_share", "natura2000_share", "ugf"];
let rows = [];
let sort = { key: "score", dir: "descending" };

function metricsPresent() {
  return METRICS.filter((m) => rows.some((r) => r[m] !== null && r[m] !== undefined));
}

function value(row, key) {
  const v = row[key];
  return v === null || v === undefined ? -Infinity : v;
}

function sorted() {
  const factor = sort.dir === "ascending" ? 1 : -1;
  return [...rows].sort((a, b) => {
    if (sort.key === "name") return factor * a.name.localeCompare(b.name, state.lang);
    return factor * (value(a, sort.key) - value(b, sort.key));
  });
}

function classColour(c) {
  const found = state.legend.classes.find((k) => k.value === c);
  return found ? found.colour : "#cccccc";
}

function renderTable(level) {
  const table = document.getElementById("comparison-table");
  const metrics = metricsPresent();
  const columns = ["name", ...metrics];
  const label = (k) => (k === "name" ? t("name") : k === "distance_to_core" ? t("distance") : layerTitle(k));
  table.querySelector("thead").innerHTML = `<tr class="utrecht-table__row">${columns.map((k) => {
    const aria = sort.key === k ? sort.dir : "none";
    return `<th scope="col" class="utrecht-table__header-cell" aria-sort="${aria}"><button type="button" data-key="${k}">${esc(label(k))}</button></th>`;
  }).join("")}<th scope="col" class="utrecht-table__header-cell">${esc(t("cls"))}</th></tr>`;
  table.querySelector("tbody").innerHTML = sorted().map((r) => `<tr class="utrecht-table__row">
      <th scope="row" class="utrecht-table__cell">${esc(r.name)} <small>${esc(r.code)}</small></th>
      ${metrics.map((m) => `<td class="utrecht-table__cell">${m === "distance_to_core" ? num(r[m], 0) : num(r[m], 3)}</td>`).join("")}
      <td class="utrecht-table__cell">${esc(r.score_class)}</td></tr>`).join("");
  const levelName = level === "wijk" ? t("wijken") : t("buurten");
  document.getElementById("comparison-caption").textContent =
    fill(t("tableCaption"), { n: rows.length, l: levelName.toLowerCase(), g: state.current.name });
  for (const button of table.querySelectorAll("thead button")) {
    button.addEventListener("click", () => {
      const key = button.dataset.key;
      sort = { key, dir: sort.key === key && sort.dir === "descending" ? "ascending" : "descending" };
      render(level);
      table.querySelector(`thead button[data-key="${key}"]`).focus();
    });
  }
}

function renderChart(level) {
  const metric = sort.key === "name" ? "score" : sort.key;
  const data = sorted();
  const max = Math.max(...data.map((r) => value(r, metric)).filter(Number.isFinite), metric === "distance_to_core" ? 1 : 1e-9);
  const scale = metric === "distance_to_core" ? max : Math.max(1, max);
  const barH = 16, gap = 3, left = 230, width = 760;
  const height = data.length * (barH + gap) + 24;
  const bars = data.map((r, i) => {
    const y = 20 + i * (barH + gap);
    const v = value(r, metric);
    const w = Number.isFinite(v) ? Math.max(1, ((width - left - 60) * v) / scale) : 0;
    const colour = classColour(r.score_class);
    return `<g><title>${esc(r.name)}: ${esc(num(r[metric], metric === "distance_to_core" ? 0 : 3))}</title>
      <text x="${left - 6}" y="${y + 12}" text-anchor="end" font-size="11">${esc(r.name.slice(0, 32))}</text>
      <rect x="${left}" y="${y}" width="${w}" height="${barH}" fill="${colour}" stroke="#333" stroke-width="0.5"></rect>
      <text x="${left + 3}" y="${y + 12}" font-size="10" font-weight="bold" fill="${textOn(colour)}">${esc(r.score_class)}</text>
      <text x="${left + w + 4}" y="${y + 12}" font-size="10">${esc(num(r[metric], metric === "distance_to_core" ? 0 : 2))}</text></g>`;
  }).join("");
  const title = metric === "distance_to_core" ? t("distance") : layerTitle(metric);
  document.getElementById("comparison-chart").innerHTML =
    `<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-caption">
      <text x="${left}" y="12" font-size="11" font-weight="bold">${esc(title)}</text>${bars}</svg>`;
  const levelName = level === "wijk" ? t("wijken") : t("buurten");
  document.getElementById("chart-caption").textContent =
    fill(t("chartCaption"), { m: title.toLowerCase(), l: levelName.toLowerCase().replace(/en$/, "") });
}

function render(level) {
  renderTable(level);
  renderChart(level);
}

async function load() {
  const level = document.getElementById("comparison-level").value;
  const kind = state.current.kind === "gemeente" ? level : "gebied";
  const collection = await getJSON(`/api/areas?gemeente=${encodeURIComponent(state.current.code)}&level=${kind}`);
  rows = collection.features.map((f) => f.properties);
  render(level);
  state.comparisonReady = true;
}

export function refreshComparison() {
  if (state.comparisonOpen) load();
}

export function setUpComparison() {
  const section = document.getElementById("comparison");
  const opener = document.getElementById("comparison-open");
  const close = () => {
    section.hidden = true;
    state.comparisonOpen = false;
    state.viewName = "map";
    opener.setAttribute("aria-expanded", "false");
    opener.focus();
  };
  opener.addEventListener("click", async () => {
    if (!section.hidden) return close();
    section.hidden = false;
    state.comparisonOpen = true;
    state.comparisonReady = false;
    state.viewName = "comparison";
    opener.setAttribute("aria-expanded", "true");
    await load();
    document.getElementById("comparison-title").setAttribute("tabindex", "-1");
    document.getElementById("comparison-title").focus();
  });
  document.getElementById("comparison-close").addEventListener("click", close);
  document.getElementById("comparison-level").addEventListener("change", load);
  section.addEventListener("keydown", (e) => { if (e.key === "Escape") close(); });
}
