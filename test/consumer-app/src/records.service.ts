import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { LlmRouter, type RoutingRecord } from '@llm-router/nestjs';
import type { Subscription } from 'rxjs';

/** Keeps the routing records the router emits, newest last. */
@Injectable()
export class RecordsService implements OnModuleInit, OnModuleDestroy {
  private readonly kept: RoutingRecord[] = [];
  private subscription?: Subscription;

  constructor(private readonly router: LlmRouter) {}

  onModuleInit(): void {
    this.subscription = this.router.records$.subscribe((record) => this.kept.push(record));
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  all(): readonly RoutingRecord[] {
    return this.kept;
  }
}
