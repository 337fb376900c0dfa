import { ConfigurableModuleBuilder, type Provider } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { OboAuthGuard } from './auth/obo-auth.guard.js';
import type { OboModuleExtras, OboModuleOptions } from './config/obo-module-options.js';
import { OboExceptionFilter } from './filters/obo-exception.filter.js';

export const {
  ConfigurableModuleClass: ConfigurableOboModule,
  MODULE_OPTIONS_TOKEN: OBO_MODULE_OPTIONS,
  OPTIONS_TYPE: OBO_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: OBO_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OboModuleOptions>({ moduleName: 'Obo' })
  .setClassMethodName('forRoot')
  .setExtras<OboModuleExtras>({ isGlobal: true, globalGuard: false, exceptionFilter: true }, (definition, extras) => {
    // Guards and filters that apply app-wide must be declared with the module, so these are extras, not options.
    const appProviders: Provider[] = [
      ...(extras.exceptionFilter !== false ? [{ provide: APP_FILTER, useClass: OboExceptionFilter }] : []),
      ...(extras.globalGuard === true ? [{ provide: APP_GUARD, useClass: OboAuthGuard }] : []),
    ];
    return { ...definition, global: extras.isGlobal !== false, providers: [...(definition.providers ?? []), ...appProviders] };
  })
  .build();
