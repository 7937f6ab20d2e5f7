// The cluster graph: Cytoscape.js (from npm, served by /static) over the page's JSON twin of
// the cluster, which holds only the members and evidence the viewer may see. Loaded as a
// file: the Content-Security-Policy forbids inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("graph");
  if (!box || typeof cytoscape !== "function") { return; }
  fetch(box.dataset.src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var large = data.elements.length > 2000;
      var cy = cytoscape({
        container: box,
        elements: data.elements,
        textureOnViewport: large,
        hideEdgesOnViewport: large,
        style: [
          { selector: "node", style: { "label": large ? "" : "data(label)", "font-size": 9,
            "width": 12, "height": 12, "background-color": "#0b5cad" } },
          { selector: "node[kind = 'ipv4'], node[kind = 'ipv6']", style: { "background-color": "#b3261e" } },
          { selector: "node[kind = 'url']", style: { "background-color": "#5a6272" } },
          { selector: "edge", style: { "width": 1, "line-color": "#9aa3b2", "curve-style": "haystack" } },
          { selector: ":selected", style: { "background-color": "#ff9f1c", "line-color": "#ff9f1c" } }
        ],
        layout: { name: large ? "grid" : "cose", animate: false }
      });
      cy.on("tap", "node", function (event) {
        var parts = event.target.id().split(":");
        window.location.href = "/observables/" + parts[0] + "/" + encodeURIComponent(parts.slice(1).join(":"));
      });
      var only = document.getElementById("edge-type");
      if (only) {
        only.addEventListener("change", function () {
          cy.edges().forEach(function (edge) {
            edge.style("display", !only.value || edge.data("label") === only.value ? "element" : "none");
          });
        });
      }
      var png = document.getElementById("graph-png");
      if (png) {
        png.hidden = false;
        png.addEventListener("click", function () {
          var link = document.createElement("a");
          link.href = cy.png({ full: true, bg: "#ffffff" });
          link.download = "cluster-" + data.id + ".png";
          link.click();
        });
      }
    });
});
