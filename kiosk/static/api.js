// The kiosk's calls to the JSON API, with the kiosk's token.

const API = "/api/v1";

// `code` is the error code of the server's JSON answer ("closed", "too_many_tickets"...).
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
    try {
      this.code = JSON.parse(message).error.code;
    } catch {
      this.code = null;
    }
  }
}

export class Api {
  constructor(token) {
    this.token = token;
  }

  headers(extra = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async request(method, path, body) {
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers: this.headers(body ? { "Content-Type": "application/json" } : {}),
        body: body ? JSON.stringify(body) : undefined,
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, String(error));
    }
    if (!response.ok) throw new ApiError(response.status, await response.text());
    return response.json();
  }

  services(site, lang) {
    return this.request("GET", `/sites/${site}/services?lang=${encodeURIComponent(lang)}`);
  }

  opening(site) {
    return this.request("GET", `/sites/${site}/opening`);
  }

  issue(site, ticket) {
    return this.request("POST", `/sites/${site}/tickets`, ticket);
  }

  // "none" | "pending" | "printed" | "unconfirmed" | "failed"; "none" when printing is not
  // there (yet). Only "printed" is paper the printer confirmed.
  async printStatus(ticketId) {
    try {
      return (await this.request("GET", `/tickets/${ticketId}/print`)).status || "none";
    } catch (error) {
      if (error.status === 0) throw error;
      return "none";
    }
  }
}
