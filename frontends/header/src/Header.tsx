/** One entry of the main navigation, as GET /nav returns it. */
export interface Link {
  href: string;
  label: string;
  current: boolean;
}

export interface HeaderProps {
  links: Link[];
  /** Items in the cart. */
  count: number;
}

/** The shop's header; the same markup as frontends/header/bff/templates/header.html. */
export function Header({ links, count }: HeaderProps) {
  return (
    <header class="header">
      <div class="header-inner">
        <a class="header-brand" href="/">
          <span class="header-logo" aria-hidden="true"></span>
          <span class="header-name">collage shop</span>
        </a>
        <nav class="header-nav" aria-label="Main">
          <ul class="header-links">
            {links.map((l) => (
              <li key={l.href}>
                <a class="header-link" href={l.href} aria-current={l.current ? "page" : undefined}>
                  {l.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <a href="#cart" class="header-cart" aria-label={`Cart, ${count} ${count === 1 ? "item" : "items"}`}>
          <svg class="header-cart-icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M3 4h2l2.4 10.2a1 1 0 0 0 1 .8h8.9a1 1 0 0 0 1-.7L21 8H6.2"></path>
            <circle cx="9.5" cy="19" r="1.5"></circle>
            <circle cx="17" cy="19" r="1.5"></circle>
          </svg>
          <span class="header-cart-count">{count}</span>
        </a>
      </div>
    </header>
  );
}
