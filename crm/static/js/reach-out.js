/* Sends the reach-out form in place. Without this script the form still works as a plain POST. */
(function () {
  "use strict";

  var TIMEOUT_MS = 20000;

  function newToken() {
    var bytes = new Uint8Array(24);
    window.crypto.getRandomValues(bytes);
    var text = "";
    for (var i = 0; i < bytes.length; i++) { text += String.fromCharCode(bytes[i]); }
    return window.btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function showStatus(status, kind, text) {
    status.textContent = "";
    var note = document.createElement("p");
    note.className = "notice notice--" + kind;
    note.textContent = text;
    status.appendChild(note);
  }

  function clearErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach(function (node) {
      node.textContent = "";
      node.hidden = true;
    });
    form.querySelectorAll("[aria-invalid='true']").forEach(function (input) {
      input.setAttribute("aria-invalid", "false");
    });
    form.querySelectorAll(".field--invalid").forEach(function (field) {
      field.classList.remove("field--invalid");
    });
  }

  function showErrors(form, errors) {
    Object.keys(errors || {}).forEach(function (name) {
      var input = form.elements[name];
      var slot = form.querySelector("[data-error-for='" + name + "']");
      if (slot) {
        slot.textContent = errors[name].join(" ");
        slot.hidden = false;
      }
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        var field = input.closest(".field");
        if (field) { field.classList.add("field--invalid"); }
      }
    });
    // The first field needing attention in reading order, not in the order of the answer.
    return form.querySelector("[aria-invalid='true']:not([type='hidden'])");
  }

  // What to fix, in reading order, each linked to its field: said right after "Oops!".
  function listErrors(form, status, errors) {
    var list = document.createElement("ul");
    list.className = "error-summary";
    form.querySelectorAll("[data-error-for]").forEach(function (slot) {
      var name = slot.getAttribute("data-error-for");
      var input = form.elements[name];
      if (!errors || !errors[name] || !input || !input.id) { return; }
      var label = form.querySelector("label[for='" + input.id + "']");
      var link = document.createElement("a");
      link.href = "#" + input.id;
      link.textContent = (label ? label.textContent.trim() + ": " : "") + errors[name].join(" ");
      var item = document.createElement("li");
      item.appendChild(link);
      list.appendChild(item);
    });
    if (list.children.length) { status.appendChild(list); }
  }

  function enhance(form) {
    var status = form.querySelector("[data-form-status]");
    var button = form.querySelector("[data-submit]");
    var idleLabel = button.textContent;
    // Words in the page's language, written into the form by the server.
    var sendingLabel = form.dataset.sending || idleLabel;
    var offlineHint = form.dataset.offline || "";
    var fields = form.querySelector("[data-fields]");
    var another = form.querySelector("[data-send-another]");

    // The emptied form comes back only when the visitor asks for it.
    function showFields(show) {
      if (!fields || !another) { return; }
      fields.hidden = !show;
      another.hidden = show;
    }

    if (another) {
      another.querySelector("a").addEventListener("click", function (event) {
        event.preventDefault();
        status.textContent = "";
        showFields(true);
        form.elements.name.focus();
      });
    }

    function setSending(sending) {
      form.setAttribute("aria-busy", sending ? "true" : "false");
      button.disabled = sending;
      button.textContent = sending ? sendingLabel : idleLabel;
    }

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; }
      event.preventDefault();
      if (button.disabled) { return; }
      clearErrors(form);
      setSending(true);

      var controller = window.AbortController ? new AbortController() : null;
      var timer = controller ? window.setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;

      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body };
        });
      }).then(function (result) {
        var body = result.body || {};
        if (result.status === 201 && body.ok) {
          form.reset();
          form.elements.submission_token.value = newToken();
          showStatus(status, "success", body.message);
          showFields(false);
          status.focus();
          return;
        }
        if (body.csrf_token && form.elements.csrf_token) {
          form.elements.csrf_token.value = body.csrf_token;
        }
        var message = body.message || form.dataset.failure;
        if (result.status === 400 || result.status === 429 || result.status >= 500) {
          message = form.dataset.failure + " " + (body.message || offlineHint);
        }
        showStatus(status, "error", message);
        listErrors(form, status, body.errors);
        var first = showErrors(form, body.errors);
        (first || status).focus();
      }).catch(function () {
        showStatus(status, "error", form.dataset.failure + " " + offlineHint);
        status.focus();
      }).then(function () {
        if (timer) { window.clearTimeout(timer); }
        setSending(false);
      });
    });
  }

  document.querySelectorAll("form[data-reach-out]").forEach(enhance);
})();
