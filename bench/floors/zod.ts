// zod as our schemas import it (`import * as z`), one object schema built at load.
import * as z from "zod";

export const handler = async (event: unknown) => z.object({ id: z.string() }).safeParse(event).success;
