/* Passkeys (SPEC §18): the WebAuthn ceremonies behind the console's forms. A form with data-passkey
   ("register", "login" or "factor") asks data-options-url for the options (a POST of the form's own fields,
   its CSRF token included), lets the browser make or use the passkey (navigator.credentials), puts the
   browser's answer as JSON in the form's `credential` field and submits the form as usual. WebAuthn Level 3's
   JSON helpers are used where the browser has them; otherwise the base64url conversions below do the same.
   Without this script or without WebAuthn, the page says so and the password works as always. */
(function () {
  "use strict";

  var SUPPORTED = !!(window.PublicKeyCredential && navigator.credentials && window.isSecureContext);
  // The words come from the page, in its language (data-t-* on <body>, base.html); English if missing.
  function t(key, english) { return document.body.getAttribute("data-t-" + key) || english; }
  var UNSUPPORTED = t("pk-unsupported", "This browser cannot use passkeys here. Your password works as always.");

  function bytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { out[i] = binary.charCodeAt(i); }
    return out.buffer;
  }

  function text(buffer) {
    var view = new Uint8Array(buffer), binary = "";
    for (var i = 0; i < view.length; i++) { binary += String.fromCharCode(view[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) { return Object.assign({}, item, { id: bytes(item.id) }); });
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: bytes(json.challenge),
      user: Object.assign({}, json.user, { id: bytes(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, { challenge: bytes(json.challenge), allowCredentials: descriptors(json.allowCredentials) });
  }

  function answer(credential) {
    if (typeof credential.toJSON === "function") { return credential.toJSON(); }
    var response = credential.response;
    var out = {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: text(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      out.response.attestationObject = text(response.attestationObject);
      out.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      out.response.authenticatorData = text(response.authenticatorData);
      out.response.signature = text(response.signature);
      out.response.userHandle = response.userHandle ? text(response.userHandle) : null;
    }
    return out;
  }

  function say(form, message, isError) {
    var status = form.querySelector("[data-passkey-status]");
    if (!status) { return; }
    status.textContent = message || "";
    status.hidden = !message;
    status.classList.toggle("flash-error", !!isError);
    status.classList.toggle("flash-info", !isError);
    status.setAttribute("role", isError ? "alert" : "status");
  }

  function refusedField(form, refusal) {
    if (refusal.field === "password") {
      var field = form.querySelector("[data-passkey-password]");
      if (field) {
        field.hidden = false;
        field.classList.add("has-error");
        var input = field.querySelector("input");
        var error = field.querySelector(".field-error");
        if (error) { error.textContent = refusal.message; error.hidden = false; }
        if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
        say(form, t("pk-enter-password", "Enter your current password, then try again."), true);
        return;
      }
    }
    var message = refusal.message || "this request was refused";
    say(form, message.charAt(0).toUpperCase() + message.slice(1) + ".", true);
  }

  function failed(form, kind, error) {
    if (error && error.refusal) { refusedField(form, error.refusal); return; }
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "AbortError") {
      say(form, t("pk-cancelled", "Cancelled, or the time ran out: nothing changed. Try again when you are ready."), true);
    } else if (name === "InvalidStateError" && kind === "register") {
      say(form, t("pk-exists", "This device already holds a passkey for your account here."), true);
    } else if (name === "SecurityError") {
      say(form, t("pk-bad-address", "This page's address cannot use passkeys (it must be the site's own name, " +
        "over HTTPS). Your password works as always."), true);
    } else {
      say(form, t("pk-failed", "Your browser could not use a passkey here ({name}). Your password works as always.")
        .replace("{name}", name || "?"), true);
    }
  }

  function begin(form) {
    var kind = form.getAttribute("data-passkey");
    form.setAttribute("data-busy", "");
    say(form, kind === "register" ? t("pk-follow-create", "Follow your browser's steps to create the passkey…")
      : t("pk-follow-use", "Follow your browser's steps to use your passkey…"), false);
    post(form.getAttribute("data-options-url"), form).then(function (body) {
      return kind === "register"
        ? navigator.credentials.create({ publicKey: creationOptions(body.options) })
        : navigator.credentials.get({ publicKey: requestOptions(body.options) });
    }).then(function (credential) {
      form.querySelector("input[name='credential']").value = JSON.stringify(answer(credential));
      say(form, t("pk-checking", "Checking…"), false);
      HTMLFormElement.prototype.submit.call(form);
    }).catch(function (error) {
      form.removeAttribute("data-busy");
      failed(form, kind, error);
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-passkey")) { return; }
    event.preventDefault();
    if (!SUPPORTED) { say(form, UNSUPPORTED, true); return; }
    if (!form.hasAttribute("data-busy")) { begin(form); }
  });

  function post(url, form) {
    return fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      if ((response.headers.get("Content-Type") || "").indexOf("application/json") !== 0) {
        throw { refusal: { message: "this page could not start it (your session may have ended): reload the page" } };
      }
      return response.json().then(function (body) {
        if (!response.ok) { throw { refusal: body }; }
        return body;
      });
    });
  }

  /* "Confirm with a passkey instead" of the password: one of the person's own passkeys answers first; its
     answer goes in the form's `reauth` field, then the form goes on as it would with the password. */
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-passkey-reauth]") : null;
    if (!button || !button.form) { return; }
    var form = button.form;
    event.preventDefault();
    if (!SUPPORTED) { say(form, UNSUPPORTED, true); return; }
    say(form, t("pk-follow-confirm", "Follow your browser's steps to confirm with your passkey…"), false);
    post(button.getAttribute("data-options-url"), form).then(function (body) {
      return navigator.credentials.get({ publicKey: requestOptions(body.options) });
    }).then(function (credential) {
      var reauth = form.querySelector("input[name='reauth']");
      reauth.value = JSON.stringify(answer(credential));
      if (form.hasAttribute("data-passkey")) {
        begin(form);
      } else {
        // A form whose answer is a file (Download my data) leaves the page in place: say what happens, and
        // empty the single-use answer once it has been sent, so a second click asks the passkey again.
        say(form, form.getAttribute("data-passkey-sent") || t("pk-checking", "Checking…"), false);
        HTMLFormElement.prototype.submit.call(form);
        window.setTimeout(function () { reauth.value = ""; }, 0);
      }
    }).catch(function (error) { failed(form, "reauth", error); });
  });

  function markUnsupported() {
    if (SUPPORTED) {
      Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-reauth-box]"), function (box) {
        box.hidden = false;
      });
      return;
    }
    Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), function (form) {
      say(form, UNSUPPORTED, false);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markUnsupported);
  } else {
    markUnsupported();
  }
}());
