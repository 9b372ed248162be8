import { Controller, Get } from '@nestjs/common';
import { Authenticated, currentRequestId } from 'nestjs-zero-trust';

/** `GET /echo`: the request id current in the handler after an await, or null. */
@Controller('echo')
@Authenticated()
export class RequestIdEchoController {
  @Get()
  async echo(): Promise<{ requestId: string | null }> {
    await new Promise((resolve) => setImmediate(resolve));
    return { requestId: currentRequestId() ?? null };
  }
}
