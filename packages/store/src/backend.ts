/** Which database holds the store. */
export type Backend = 'sqlite' | 'postgres';
