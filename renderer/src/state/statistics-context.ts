import { createContext, useContext, useSyncExternalStore } from 'react';
import type { StatisticsSample } from '@contract';
import { StatisticsStore } from './statistics-store.js';

export const StatisticsContext = createContext<StatisticsStore>(new StatisticsStore());

/** The samples seen for a channel, oldest first; re-renders on each new one. */
export function useChannelSamples(entryId: string): readonly StatisticsSample[] {
  const store = useContext(StatisticsContext);
  return useSyncExternalStore(store.subscribe, () => store.samples(entryId));
}

export function useStatisticsStore(): StatisticsStore {
  return useContext(StatisticsContext);
}
