import type { CallOptions, Invoker } from '../invoker.js';
import type { Alias, VersionRef } from '../types.js';

/** Aliases: movable names (`champion`, `production`) for one version of a model. */
export class AliasesClient {
  /** @internal */
  constructor(private readonly invoker: Invoker) {}

  /**
   * Points an alias at a version of the same model, creating or moving it atomically.
   * `version` is a number or another alias (`'@challenger'`).
   *
   * @example
   * ```ts
   * const alias = await client.aliases.set('fraud', 'scorer', 'champion', 3);
   * console.log(alias.previous_version); // null when the alias is new
   * ```
   */
  set(
    namespace: string,
    model: string,
    alias: string,
    version: VersionRef,
    options?: CallOptions,
  ): Promise<Alias> {
    return this.invoker.call('SetAlias', { namespace, model, alias, version }, options);
  }

  /**
   * Removes an alias. Fails with `NOT_FOUND` when the model has no such alias.
   *
   * @example
   * ```ts
   * await client.aliases.unset('fraud', 'scorer', 'challenger');
   * ```
   */
  async unset(namespace: string, model: string, alias: string, options?: CallOptions): Promise<void> {
    await this.invoker.call('UnsetAlias', { namespace, model, alias }, options);
  }
}
