// Starts Swagger UI on the API reference page (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null,       // never send the document to an outside validator
    tryItOutEnabled: false,
    defaultModelsExpandDepth: 0
  });
})();
