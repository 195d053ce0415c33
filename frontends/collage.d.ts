// Types of the contract between the collage shell's client runtime and a
// frontend's entry module. Import them with `import type`; they vanish from
// the bundle.

/** The browser event bus: the only way frontends talk to each other. */
export interface Bus {
  /** Sends an event to every listener of type, in every frontend on the page. */
  emit<T = unknown>(type: string, detail?: T): void;
  /**
   * Listens for type; returns a function that stops listening. With
   * { replay: true } the listener is also called at once with the last event
   * of that type sent before it listened, if any: for state such as a count.
   */
  on<T = unknown>(type: string, listener: (detail: T) => void, options?: { replay?: boolean }): () => void;
}

/** What the runtime passes to mount. */
export interface MountContext {
  /** The frontend's name, as in collage.yaml. */
  frontend: string;
  /** The slot's name attribute, or "" when the layout gives none. */
  slot: string;
  /** The page's path and query, as the browser sees it. */
  path: string;
  /** Route parameters of the page, such as { id: "1" } on /products/{id}. */
  params: Record<string, string>;
  /** Base URL of the frontend's BFF: fetch(`${ctx.bff}/items`). */
  bff: string;
  bus: Bus;
  /**
   * The data the server rendered the slot's View with, when it did: mount
   * hydrates View with it instead of fetching. Absent when the slot holds
   * its fallback, or a frontend that exports no View.
   */
  data?: unknown;
}

/** The entry module of every frontend exports these. */
export interface FrontendModule {
  mount(el: HTMLElement, ctx: MountContext): void | Promise<void>;
  unmount?(el: HTMLElement): void;
  /**
   * The component the server renders with the data of the BFF's fragment
   * (bff.Component) as its props. A frontend that exports it gets a server
   * bundle from collage build; its mount hydrates it with ctx.data.
   */
  View?: (props: any) => unknown;
}
