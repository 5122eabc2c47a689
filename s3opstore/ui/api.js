// The UI's only way to the registry: the API's read routes, on this same server.

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

export async function call(route, body = {}) {
  const url = new URL(`../v1/${route}`, window.location.href);
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, "unreachable", `the server did not answer (${error.message})`);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = data && data.error ? data.error : { type: "http", message: response.statusText };
    throw new ApiError(response.status, detail.type, detail.message);
  }
  return data;
}
