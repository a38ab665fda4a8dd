// The summary page of the feedback: counts and mean clarity per role × view, recent comments.
import { esc, getJSON } from "./i18n.js";

const ROLE = { bestuurder: "bestuurder", beleidsmaker: "beleidsmaker", bedrijf: "bedrijf", agrarier: "agrariër", bewoner: "bewoner" };
const VIEW = { map: "kaart", comparison: "vergelijking", story: "kaartverhaal", place: "mijn plek", scenario: "scenario", feedback: "terugkoppeling" };

async function main() {
  const s = await getJSON("/api/feedback/summary");
  document.getElementById("totals").textContent = s.total
    ? `${s.total} antwoorden, gemiddelde duidelijkheid ${s.mean_clarity} van 5.`
    : "Nog geen antwoorden.";
  const views = s.views.filter((v) => s.groups.some((g) => g.view === v));
  const table = document.getElementById("groups");
  table.querySelector("thead").innerHTML = `<tr class="utrecht-table__row"><th scope="col" class="utrecht-table__header-cell">Rol</th>${views.map((v) => `<th scope="col" class="utrecht-table__header-cell">${esc(VIEW[v] || v)}</th>`).join("")}</tr>`;
  table.querySelector("tbody").innerHTML = s.roles.map((r) => `<tr class="utrecht-table__row"><th scope="row" class="utrecht-table__cell">${esc(ROLE[r] || r)}</th>${views.map((v) => {
    const g = s.groups.find((x) => x.role === r && x.view === v);
    return `<td class="utrecht-table__cell" data-role="${esc(r)}" data-view="${esc(v)}">${g ? `${g.count} × · ${g.mean_clarity}` : "–"}</td>`;
  }).join("")}</tr>`).join("");
  document.getElementById("comments").innerHTML = s.recent_comments.map((c) =>
    `<li><strong>${esc(ROLE[c.role] || c.role)}</strong>, ${esc(VIEW[c.view] || c.view)}${c.layer ? `, ${esc(c.layer)}` : ""}${c.area ? `, ${esc(c.area)}` : ""} (${esc(c.clarity)}/5, ${esc(c.created)}): ${esc(c.comment)}</li>`).join("") || "<li>Geen opmerkingen.</li>";
  window.bstSummaryReady = true;
}

main();
