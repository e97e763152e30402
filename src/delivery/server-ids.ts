/**
 * Replica server ids for the extra readers (catch-up, replay). Each open dump connection needs an id of its own: a
 * second dump with the same id makes the server kill the first.
 */
export class ServerIdPool {
  private readonly free: number[] = [];
  private next: number;

  /** Ids are taken upwards from `base + 1` (the base is the live reader's `BRIDGE_SERVER_ID`). */
  constructor(private readonly base: number) {
    this.next = base + 1;
  }

  /** An id no other reader of this process holds. */
  acquire(): number {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.next > 4_294_967_295) this.next = Math.max(1, this.base - 100_000);
    return this.next++;
  }

  /** Gives an id back once its reader has closed. */
  release(id: number): void {
    if (!this.free.includes(id)) this.free.push(id);
  }
}
