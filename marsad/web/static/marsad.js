// Marsad pages: small behaviours loaded as a file (the Content-Security-Policy forbids inline
// scripts). Everything works without it; it adds the upload progress bar.
document.addEventListener("htmx:xhr:progress", function (event) {
  var bar = document.getElementById("upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});
