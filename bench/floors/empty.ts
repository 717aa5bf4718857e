// An ESM bundle with nothing but SST's banner: the floor of importing any function bundle.
export const handler = async (): Promise<void> => {};
