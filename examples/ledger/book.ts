// The ledger's state, independent of how its messages were generated: balances and a
// journal. Each codegen style's handlers (examples/ts-proto, examples/grpc-tools) adapt
// their messages to these plain values.

export interface Entry {
  readonly id: string;
  readonly fromAccount: string;
  readonly toAccount: string;
  /** Minor units, as a decimal string (int64 on the wire). */
  readonly amount: string;
  readonly principal: string;
}

export class Book {
  readonly balances = new Map<string, bigint>([
    ['acc-alice', 10_000n],
    ['acc-bob', 2_500n],
  ]);
  readonly journal: Entry[] = [];

  balance(account: string): bigint {
    return this.balances.get(account) ?? 0n;
  }

  /** Moves money; an error message if it cannot. */
  transfer(entry: Entry): string | undefined {
    const amount = BigInt(entry.amount);
    if (amount <= 0n) return 'amount must be positive';
    if (this.balance(entry.fromAccount) < amount) return 'insufficient funds';
    this.balances.set(entry.fromAccount, this.balance(entry.fromAccount) - amount);
    this.balances.set(entry.toAccount, this.balance(entry.toAccount) + amount);
    this.journal.push(entry);
    return undefined;
  }

  entriesOf(account: string, limit: number): Entry[] {
    const rows = this.journal.filter((e) => e.fromAccount === account || e.toAccount === account);
    return rows.slice(0, limit || rows.length);
  }

  matches(id: string, amount: string): boolean {
    return this.journal.some((e) => e.id === id && e.amount === amount);
  }
}
