import type { DropDto } from '@dropwatch/client';
import type { ReactNode } from 'react';
import { safeHref } from '../format';
import { venueHref } from '../route';

/** One drop: venue (a link to its page), date and time, party sizes, and a link to book it. */
export function DropItem({
  drop: d,
  isNew,
  className,
  children,
  ...data
}: {
  drop: DropDto;
  isNew: boolean;
  className?: string;
  children?: ReactNode;
  'data-notification-id'?: string;
}) {
  const href = safeHref(d.venue.bookingUrl);
  const classes = [isNew ? 'new' : '', className ?? ''].filter(Boolean).join(' ');
  return (
    <li
      className={classes || undefined}
      data-drop-id={d.id}
      data-slot-date={d.slotDate}
      data-slot-time={d.slotTime}
      data-party-sizes={d.partySizes.join(' ')}
      {...data}
    >
      <span>
        <a href={venueHref(d.venue.id)}>{d.venue.name}</a> · {d.slotDate} {d.slotTime} · party {d.partySizes.join('/')}
      </span>
      {href && (
        <a
          href={href}
          target="_blank"
          rel="noopener noreferrer"
          aria-label={`Book ${d.venue.name} on ${d.slotDate} at ${d.slotTime}`}
        >
          Book
        </a>
      )}
      {children}
    </li>
  );
}
