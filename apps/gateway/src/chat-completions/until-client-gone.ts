import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';

/**
 * The last value of `source`, unsubscribing (which aborts the upstream call)
 * if the client hangs up first. `lastValueFrom` alone would keep the upstream
 * generating, and billing, for nobody.
 */
export function untilClientGone<T>(source: Observable<T>, res: ServerResponse): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let last: { value: T } | undefined;
    const onClose = () => subscription.unsubscribe();
    const subscription = source.subscribe({
      next: (value) => (last = { value }),
      error: (err: unknown) => {
        res.off('close', onClose);
        reject(err);
      },
      complete: () => {
        res.off('close', onClose);
        if (last) resolve(last.value);
        else reject(new Error('the routed call completed without a result'));
      },
    });
    if (!subscription.closed) res.once('close', onClose);
  });
}
