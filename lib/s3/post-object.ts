export async function postObject(_ctx: unknown, _e: unknown): Promise<void> { throw new Error('todo'); }
