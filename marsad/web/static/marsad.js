// Marsad pages: small behaviours loaded as a file (the Content-Security-Policy forbids inline
// scripts). Everything works without it; it adds the upload progress bar.
document.addEventListener("htmx:xhr:progress", function (event) {
  var bar = document.getElementById("upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});

// A result built in the background is polled into a live region (role="status" inside it):
// the region is busy while a progress indicator is in it, so screen readers announce the
// result once, when it has arrived.
document.addEventListener("htmx:afterSwap", function (event) {
  var region = event.detail.target;
  if (region && region.hasAttribute("aria-busy")) {
    region.setAttribute("aria-busy", region.querySelector(".building") ? "true" : "false");
  }
});
