// The report pages' own behaviour: the site choice sends the period form to that site's
// reports; the indicators page's print button prints.
const siteSelect = document.getElementById("site-select");
if (siteSelect) {
  siteSelect.addEventListener("change", (e) => {
    const form = document.getElementById("period-form");
    form.action = form.action.replace(/\/reports\/[^/?]+/, "/reports/" + encodeURIComponent(e.target.value));
  });
}

// The indicators page's print button.
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
