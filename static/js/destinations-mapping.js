// Live preview of a destination's field mapping: posts the form to the JSON preview endpoint as the
// admin types and shows the resulting JSON (or the validation messages). The Preview button still
// works without JavaScript.
(function () {
  "use strict";
  var form = document.getElementById("mapping-form");
  var output = document.getElementById("mapping-preview");
  var errorsBox = document.getElementById("mapping-errors");
  if (!form || !output || !errorsBox || !window.fetch) return;
  var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  var latest = 0;

  function showErrors(errors) {
    errorsBox.textContent = "";
    if (!errors.length) return;
    var list = document.createElement("ul");
    list.className = "message error mapping-errors";
    errors.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    errorsBox.appendChild(list);
  }

  function refresh() {
    var ticket = ++latest;
    fetch(form.dataset.previewUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-CSRFToken": token, "Accept": "application/json"}
    }).then(function (response) { return response.json(); }).then(function (answer) {
      if (ticket !== latest) return;  // an older answer arriving late
      if (answer.ok) {
        output.textContent = JSON.stringify(answer.body, null, 2);
        showErrors([]);
      } else {
        showErrors(answer.errors || ["The preview failed."]);
      }
    }).catch(function () { showErrors(["The preview could not be fetched; use the Preview button."]); });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
