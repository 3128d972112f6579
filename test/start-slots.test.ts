/**
 * Start slots (src/start-slots.ts) without threads: the host's side of a run's start, driven
 * by claimStart() as a thread would call it. A slot is reused run after run; its ticket says
 * which run started in it, so a ticket is never 0 (the flag's "not started") nor negative
 * (its "cancelled"), and tickets of slots in use stay apart.
 */
import { describe, expect, it } from 'vitest';
import { claimStart, slotViews, StartSlots } from '../src/start-slots.js';

const MAX_TICKET = 0x7fffffff;

describe('StartSlots', () => {
  it('hands out tickets 1, 2, 3, ... one per acquired slot', () => {
    const slots = new StartSlots(3);
    expect([slots.acquire(), slots.acquire(), slots.acquire()].map((s) => s.ticket)).toEqual([1, 2, 3]);
  });

  it('wraps the ticket after 2^31 - 1 back to 1, never to 0 or a negative number', () => {
    const slots = new StartSlots(3, MAX_TICKET - 1);
    const tickets = [slots.acquire(), slots.acquire(), slots.acquire()].map((s) => s.ticket);
    expect(tickets).toEqual([MAX_TICKET - 1, MAX_TICKET, 1]);
  });

  it('a run whose ticket wrapped still starts and is seen to start', async () => {
    const slots = new StartSlots(2, MAX_TICKET);
    slots.acquire();
    const wrapped = slots.acquire();
    expect(wrapped.ticket).toBe(1);
    const started = slots.whenStarted(wrapped);
    const views = slotViews(slots.buffer, slots.count);
    expect(claimStart(views, wrapped.index, wrapped.ticket, 7, 1234.5)).toBe(true);
    expect(await started).toBe(1234.5);
    expect(slots.threadOf(wrapped)).toBe(7);
  });

  it('refuses a slot when every slot is held, naming the fault', () => {
    const slots = new StartSlots(2);
    slots.acquire();
    slots.acquire();
    expect(() => slots.acquire()).toThrow(/^async-load: no free start slot \(internal accounting error\)$/);
  });

  it('a released slot is acquired again, with a new ticket that its old start does not match', () => {
    const slots = new StartSlots(1);
    const first = slots.acquire();
    const views = slotViews(slots.buffer, slots.count);
    expect(claimStart(views, first.index, first.ticket, 3, 10)).toBe(true);
    slots.release(first);
    const second = slots.acquire();
    expect(second.index).toBe(first.index);
    expect(second.ticket).not.toBe(first.ticket);
    expect(slots.startedAt(second)).toBeUndefined();
  });

  it('whenStarted() of a run cancelled before it started: undefined, and the thread cannot start it', async () => {
    const slots = new StartSlots(1);
    const slot = slots.acquire();
    const started = slots.whenStarted(slot);
    expect(slots.cancelStart(slot)).toBe(true);
    expect(await started).toBeUndefined();
    expect(claimStart(slotViews(slots.buffer, slots.count), slot.index, slot.ticket, 1, 5)).toBe(false);
  });

  it('cancelling a run that has started fails; cancelling one already cancelled succeeds again', () => {
    const slots = new StartSlots(2);
    const started = slots.acquire();
    const cancelled = slots.acquire();
    const views = slotViews(slots.buffer, slots.count);
    expect(claimStart(views, started.index, started.ticket, 1, 5)).toBe(true);
    expect(slots.cancelStart(started)).toBe(false);
    expect(slots.cancelStart(cancelled)).toBe(true);
    expect(slots.cancelStart(cancelled)).toBe(true);
  });

  it('every slot keeps its own start, thread and time: the three arrays of the shared buffer never overlap', () => {
    const slots = new StartSlots(40);
    const held = Array.from({ length: 40 }, () => slots.acquire());
    const views = slotViews(slots.buffer, slots.count);
    for (const [i, slot] of held.entries())
      claimStart(views, slot.index, slot.ticket, 100 + i, 1e12 + i * 0.5);
    for (const [i, slot] of held.entries()) {
      expect(slots.startedAt(slot)).toBe(1e12 + i * 0.5);
      expect(slots.threadOf(slot)).toBe(100 + i);
    }
  });
});
