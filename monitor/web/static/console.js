// Live story list: ask the API every 20 s for the newest story; when it changed, offer a reload.
(function () {
  const table = document.querySelector("table.stories");
  const note = document.getElementById("fresh");
  if (!table || !note || new URLSearchParams(location.search).get("after")) return;
  const shown = table.dataset.newest;
  async function check() {
    const query = new URLSearchParams(location.search);
    query.set("limit", "1");
    try {
      const response = await fetch("/api/v1/stories?" + query, { credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      const newest = body.stories.length ? String(body.stories[0].id) : "";
      if (newest !== shown) note.hidden = false;
    } catch (e) { /* the service restarts: try again next time */ }
  }
  setInterval(check, 20000);
})();
